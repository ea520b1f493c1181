import { SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { MAX_INPUTS_PER_REQUEST } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { modelForEndpoint, OpenAiParamError } from './openai-models.js';
import { preparePrediction, runPrediction } from './predict.js';
import { isObject } from './request-shape.js';

/** POST /v1/embeddings on a text-embedder model, as one v2 predict of all the strings. */

export interface EmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

const ENDPOINT = 'POST /v1/embeddings';

export async function createEmbeddings(
  ctx: ServiceContext,
  caller: Caller,
  body: unknown,
  reqId: string,
  signal?: AbortSignal,
): Promise<EmbeddingList> {
  if (!isObject(body)) throw new OpenAiParamError(null, 'the body must be a JSON object');
  const texts = inputTexts(body.input);
  const format = body.encoding_format ?? 'float';
  // the official client asks for base64 by default (smaller), and decodes it itself
  if (format !== 'float' && format !== 'base64') {
    throw new OpenAiParamError('encoding_format', 'encoding_format must be "float" or "base64"');
  }
  const dimensions = body.dimensions;
  if (dimensions !== undefined && dimensions !== null && typeof dimensions !== 'number') {
    throw new OpenAiParamError('dimensions', 'dimensions must be a number');
  }
  const { ref, name } = await modelForEndpoint(ctx, caller, body.model, 'embeddings', ENDPOINT);
  const v2 = { inputs: texts.map((raw) => ({ data: { text: { raw } } })) };
  const prepared = await preparePrediction(ctx, caller, ref, v2, signal);
  const result = await runPrediction(ctx, prepared, reqId, signal);
  let promptTokens = 0;
  const data = result.outputs.map((out, index) => {
    // one failed input fails the request: OpenAI's answer has no per-item status
    if (out.status.code !== StatusCode.SUCCESS) {
      throw new SibylError(out.status.code, out.status.description, out.status.details);
    }
    const vector = out.data.embeddings?.[0]?.vector;
    if (!vector) throw new Error(`model ${name} gave no embedding for input ${index}`);
    if (typeof dimensions === 'number' && dimensions !== vector.length) {
      throw new OpenAiParamError(
        'dimensions',
        `model ${name} gives ${vector.length} dimensions and cannot shorten them; leave dimensions out or send ${vector.length}`,
      );
    }
    promptTokens += out.prompt_tokens ?? 0;
    const embedding = format === 'base64' ? toBase64(vector) : vector;
    return { object: 'embedding' as const, index, embedding };
  });
  return {
    object: 'list',
    data,
    model: name,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function inputTexts(input: unknown): string[] {
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) {
    throw new OpenAiParamError(
      'input',
      'input must be a string or a non-empty list of strings (token lists are not supported)',
    );
  }
  if (list.length > MAX_INPUTS_PER_REQUEST) {
    throw new OpenAiParamError(
      'input',
      `input has ${list.length} strings; at most ${MAX_INPUTS_PER_REQUEST} per request`,
    );
  }
  const empty = list.findIndex((s) => s === '');
  if (empty >= 0) throw new OpenAiParamError('input', `input[${empty}] is empty`);
  return list;
}

/** Little-endian float32s, base64: OpenAI's `encoding_format: "base64"`. */
function toBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}
