import { SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { InputType } from '../../core/wire.js';
import { OUTPUT_CONFIG_PARAMETERS, PROTOCOL_PARAMETERS } from '../../engine/runtimes/oip-contract.js';
import {
  badTensor,
  BinaryReader,
  checkTensorHead,
  decodeBytes,
  elementCount,
  flatData,
  isRecord,
  type OipTensor,
} from '../../engine/runtimes/oip-tensors.js';
import { requireScope } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { findOipModel } from './oip-models.js';
import { encodeOutputs, outputTensors, type OutputRequest } from './oip-outputs.js';
import { preparePrediction, runPrediction } from './predict.js';

/**
 * POST /v2/models/{name}[/versions/{v}]/infer: an OIP inference request decoded into the same
 * PostModelOutputs body /v2 takes, run through preparePrediction/runPrediction (so scopes,
 * visibility, limits and the scheduler apply exactly as on /v2), and answered in Sibyl's tensor
 * contract (engine/runtimes/oip-contract.ts).
 */

/** A request body: the JSON header and whatever binary tensor data followed it. */
export interface OipRequestBody {
  json: unknown;
  binary: Uint8Array;
}

export interface OipInferReply {
  json: Record<string, unknown>;
  /** Binary outputs' bytes, in the order of the outputs that carry binary_data_size. */
  binary: Buffer[];
}

/** One input element: a string for text (or JSON base64 of media), bytes for binary media. */
type Element = { text: string } | { base64: string } | { bytes: Uint8Array };

interface ParsedRequest {
  id?: string;
  elements: Element[];
  params: Record<string, unknown>;
  outputConfig: Record<string, unknown>;
  outputs?: OutputRequest[];
  binaryOutputs: boolean;
}

export async function oipInfer(
  ctx: ServiceContext,
  caller: Caller,
  name: string,
  versionId: string | undefined,
  body: OipRequestBody,
  reqId: string,
  signal?: AbortSignal,
): Promise<OipInferReply> {
  requireScope(caller, 'predict', 'OIP inference');
  const found = await findOipModel(ctx, caller, name, versionId);
  const parsed = parseRequest(body, found.spec.inputType);
  const type = found.spec.inputType;
  const v2Body = {
    inputs: parsed.elements.map((e) => ({
      data: {
        [type]:
          'text' in e
            ? { raw: e.text }
            : { base64: 'base64' in e ? e.base64 : Buffer.from(e.bytes).toString('base64') },
      },
    })),
    model: {
      output_info: {
        ...(Object.keys(parsed.params).length > 0 ? { params: parsed.params } : {}),
        ...(Object.keys(parsed.outputConfig).length > 0 ? { output_config: parsed.outputConfig } : {}),
      },
    },
  };
  const ref = { ...found.ref, versionId: found.version.id };
  const prepared = await preparePrediction(ctx, caller, ref, v2Body, signal);
  const result = await runPrediction(ctx, prepared, reqId, signal);
  // OIP has no per-input status: one failed input fails the request, naming it
  const failed = result.outputs.findIndex((o) => o.status.code !== StatusCode.SUCCESS);
  if (failed >= 0) {
    const s = result.outputs[failed]!.status;
    throw new SibylError(s.code, s.description, `input ${failed}: ${s.details ?? s.description}`);
  }
  const tensors = outputTensors(
    found.kind,
    result.outputs.map((o) => o.data),
  );
  const { outputs, binary } = encodeOutputs(found.kind, tensors, parsed.outputs, parsed.binaryOutputs);
  return {
    json: {
      model_name: name,
      model_version: found.version.id,
      id: parsed.id ?? reqId,
      outputs,
    },
    binary,
  };
}

function parseRequest(body: OipRequestBody, inputType: InputType): ParsedRequest {
  const req = body.json;
  if (!isRecord(req)) throw badTensor('the inference request must be a JSON object with an "inputs" list');
  if (req.id !== undefined && typeof req.id !== 'string') throw badTensor('"id" must be a string');
  const inputs = req.inputs;
  if (!Array.isArray(inputs) || inputs.length !== 1)
    throw badTensor(
      `"inputs" must hold exactly one tensor: BYTES of shape [N] named "${inputType}", one element per input`,
    );
  const reader = new BinaryReader(body.binary);
  const elements = readElements(inputs[0], inputType, reader);
  reader.finish();

  const params: Record<string, unknown> = {};
  const outputConfig: Record<string, unknown> = {};
  let binaryOutputs = false;
  if (req.parameters !== undefined) {
    if (!isRecord(req.parameters)) throw badTensor('"parameters" must be an object');
    for (const [key, value] of Object.entries(req.parameters)) {
      if (key === 'binary_data_output') binaryOutputs = value === true;
      else if (PROTOCOL_PARAMETERS.includes(key)) continue;
      else if (OUTPUT_CONFIG_PARAMETERS.includes(key)) outputConfig[key] = value;
      else params[key] = value;
    }
  }
  return {
    ...(typeof req.id === 'string' ? { id: req.id } : {}),
    elements,
    params,
    outputConfig,
    ...(req.outputs !== undefined ? { outputs: readOutputRequests(req.outputs, binaryOutputs) } : {}),
    binaryOutputs,
  };
}

function readElements(t: unknown, inputType: InputType, reader: BinaryReader): Element[] {
  const where = 'inputs[0]';
  const tensor: OipTensor = checkTensorHead(t, where);
  if (tensor.name !== inputType)
    throw badTensor(`${where}.name is "${tensor.name}"; this model takes a tensor named "${inputType}"`);
  if (tensor.datatype !== 'BYTES')
    throw badTensor(`${where}.datatype is ${tensor.datatype}; the "${inputType}" tensor is BYTES`);
  const count = elementCount(tensor.shape, where);
  const params = tensor.parameters ?? {};
  let elements: Element[];
  if (params.binary_data_size !== undefined) {
    const raw = decodeBytes(reader.take(params.binary_data_size, where), where);
    elements = raw.map((b) => (inputType === 'text' ? { text: b.toString('utf8') } : { bytes: b }));
  } else {
    const base64 = params.content_type === 'base64';
    if (params.content_type !== undefined && !base64)
      throw badTensor(
        `${where}.parameters.content_type must be "base64" when given, got ${JSON.stringify(params.content_type)}`,
      );
    const data = flatData(tensor.data, where);
    elements = data.map((d, i): Element => {
      if (typeof d !== 'string') throw badTensor(`${where}.data[${i}] must be a string`);
      if (inputType === 'text') return { text: base64 ? Buffer.from(d, 'base64').toString('utf8') : d };
      if (!base64)
        throw badTensor(
          `${where}.data[${i}]: ${inputType} elements in JSON must be base64 with parameters.content_type "base64" on the tensor, or sent as binary data (parameters.binary_data_size)`,
        );
      return { base64: d };
    });
  }
  if (elements.length !== count)
    throw badTensor(
      `${where} has ${elements.length} elements but its shape ${JSON.stringify(tensor.shape)} holds ${count}`,
    );
  if (count === 0) throw badTensor(`${where} has no elements; send at least one input`);
  return elements;
}

function readOutputRequests(outputs: unknown, binaryByDefault: boolean): OutputRequest[] {
  if (!Array.isArray(outputs)) throw badTensor('"outputs" must be a list of {name, parameters?}');
  return outputs.map((o, i) => {
    if (!isRecord(o) || typeof o.name !== 'string')
      throw badTensor(`outputs[${i}] must be an object with a "name"`);
    if (o.parameters !== undefined && !isRecord(o.parameters))
      throw badTensor(`outputs[${i}].parameters must be an object`);
    const binary = o.parameters?.binary_data;
    return { name: o.name, binary: typeof binary === 'boolean' ? binary : binaryByDefault };
  });
}
