import type { EngineInput } from '../../engine/index.js';
import type { MultiOutputResponse } from '../../core/wire.js';
import { echoInput, type PreparedPrediction } from '../services/predict.js';
import { isObject } from '../services/request-shape.js';

/**
 * The PostModelOutputsRequest a runner (or another Clarifai API) gets for a prepared prediction:
 * the model by its user, app, id and version, and every input inline. URL inputs were downloaded
 * here, under this server's address policy and limits, so a runner never fetches anything a
 * client names.
 */
export function runnerRequest(prepared: PreparedPrediction): Record<string, unknown> {
  const { model, version, opts, inputs, engineInputs } = prepared;
  const outputInfo: Record<string, unknown> = {};
  if (opts.params) outputInfo.params = opts.params;
  if (opts.outputConfig) outputInfo.output_config = opts.outputConfig;
  return {
    user_app_id: { user_id: model.userId, app_id: model.appId },
    model_id: model.id,
    version_id: version.id,
    inputs: engineInputs.map((input, i) => ({
      ...(inputs[i]?.id ? { id: inputs[i]!.id } : {}),
      data: inlineData(input),
    })),
    ...(Object.keys(outputInfo).length > 0 ? { model: { model_version: { output_info: outputInfo } } } : {}),
  };
}

function inlineData(input: EngineInput): Record<string, unknown> {
  if (input.type === 'text') return { text: { raw: input.text } };
  const media = { [input.type]: { base64: Buffer.from(input.bytes).toString('base64') } };
  return input.text !== undefined ? { ...media, text: { raw: input.text } } : media;
}

/**
 * A runner's answer as this server's: the request id is this request's, and each output echoes
 * the input as the client sent it (a URL stays a URL) rather than the inline copy the runner got.
 */
export function asOwnAnswer(
  output: Record<string, unknown>,
  prepared: PreparedPrediction,
  reqId: string,
): MultiOutputResponse {
  const res = output as unknown as MultiOutputResponse;
  const status = isObject(res.status)
    ? { ...res.status, req_id: reqId }
    : { code: 10000, description: 'Ok', req_id: reqId };
  const outputs = Array.isArray(res.outputs)
    ? res.outputs.map((o, i) => (prepared.inputs[i] ? { ...o, input: echoInput(prepared.inputs[i]!) } : o))
    : [];
  return { ...res, status, outputs } as MultiOutputResponse;
}
