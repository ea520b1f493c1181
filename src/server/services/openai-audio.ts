import type { InferenceParams } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { modelForEndpoint, OpenAiParamError } from './openai-models.js';
import { preparePrediction, runPrediction } from './predict.js';

/**
 * POST /v1/audio/transcriptions and /v1/audio/translations on an audio-to-text model: the form's
 * file becomes one audio input and the endpoint picks the model's `task` param.
 */

export interface AudioCommand {
  task: 'transcribe' | 'translate';
  /** The form's text fields (model, language, temperature, response_format, prompt). */
  fields: Readonly<Record<string, string>>;
  file: Uint8Array | undefined;
}

export interface AudioResult {
  text: string;
  /** json: `{text}`; text: the text alone. */
  format: 'json' | 'text';
}

export async function transcribe(
  ctx: ServiceContext,
  caller: Caller,
  cmd: AudioCommand,
  reqId: string,
  signal?: AbortSignal,
): Promise<AudioResult> {
  const { fields } = cmd;
  const endpoint = `POST /v1/audio/${cmd.task === 'translate' ? 'translations' : 'transcriptions'}`;
  if (!cmd.file || cmd.file.byteLength === 0) throw new OpenAiParamError('file', 'file is missing or empty');
  const format = fields.response_format ?? 'json';
  if (format !== 'json' && format !== 'text') {
    throw new OpenAiParamError(
      'response_format',
      'response_format must be json or text here (no timestamps)',
    );
  }
  // a prompt would steer the decoder, which the audio models here cannot take: refuse, not ignore
  if (fields.prompt) throw new OpenAiParamError('prompt', 'prompt is not supported here');
  const params: InferenceParams = { task: cmd.task };
  if (fields.language) params.language = fields.language;
  if (fields.temperature !== undefined && fields.temperature !== '') {
    const t = Number(fields.temperature);
    if (!Number.isFinite(t)) throw new OpenAiParamError('temperature', 'temperature must be a number');
    params.temperature = t;
  }
  const { ref } = await modelForEndpoint(ctx, caller, fields.model, 'audio', endpoint);
  const body = {
    inputs: [{ data: { audio: { base64: Buffer.from(cmd.file).toString('base64') } } }],
    model: { output_info: { params } },
  };
  const prepared = await preparePrediction(ctx, caller, ref, body, signal);
  const result = await runPrediction(ctx, prepared, reqId, signal);
  return { text: result.outputs[0]?.data.text?.raw ?? '', format };
}
