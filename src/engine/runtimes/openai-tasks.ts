import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Data, InferenceParams } from '../../core/wire.js';
import type { DecodedInput, GenerateChunk, TokenUsage } from '../types.js';
import type { OpenAiClient } from './openai-client.js';

/**
 * What each model type sends to an OpenAI-compatible engine and makes of its answers: chat (or
 * completions, when the caller brings a prompt template), embeddings and transcriptions.
 */

type Json = Record<string, unknown>;

/** Generation params that have the same name and meaning in OpenAI's API (top_k: vLLM, llama.cpp). */
const SAMPLING_PARAMS = ['temperature', 'max_tokens', 'top_p', 'top_k', 'seed'] as const;

function inputError(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.INPUT_INVALID_ARGUMENT, 'Invalid input argument');
}

interface GenerationRequest {
  path: '/chat/completions' | '/completions';
  body: Json;
}

/**
 * A chat request (system prompt, then the user's text and image), or, given `prompt_template`,
 * a completions request with the template filled in: the caller has applied their own template.
 */
export function generationRequest(
  model: string,
  input: DecodedInput,
  params: InferenceParams,
  stream: boolean,
): GenerationRequest {
  const system = typeof params.system_prompt === 'string' ? params.system_prompt : undefined;
  const template = typeof params.prompt_template === 'string' ? params.prompt_template : undefined;
  const body: Json = { model };
  for (const key of SAMPLING_PARAMS) if (params[key] !== undefined) body[key] = params[key];
  if (Array.isArray(params.stop) && params.stop.length > 0) body.stop = params.stop;
  if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  else body.stream = false;

  if (input.type === 'image' || input.type === 'audio')
    throw inputError(`a remote engine needs the ${input.type} as sent, not decoded`);
  const text = input.text ?? '';
  if (template !== undefined) {
    if (input.type === 'encoded') {
      throw inputError(
        'prompt_template applies to text inputs only; an image goes through the chat template',
      );
    }
    return { path: '/completions', body: { ...body, prompt: applyTemplate(template, text, system) } };
  }
  const messages: Json[] = system === undefined ? [] : [{ role: 'system', content: system }];
  if (input.type === 'text') messages.push({ role: 'user', content: text });
  else {
    if (input.media !== 'image') throw inputError(`this model reads text and images, not ${input.media}`);
    const url = `data:${imageMime(input.bytes)};base64,${Buffer.from(input.bytes).toString('base64')}`;
    const content: Json[] = text === '' ? [] : [{ type: 'text', text }];
    content.push({ type: 'image_url', image_url: { url } });
    messages.push({ role: 'user', content });
  }
  return { path: '/chat/completions', body: { ...body, messages } };
}

/**
 * "{prompt}" or "{{prompt}}" stands for the input, "{system_prompt}" for the system prompt; a
 * system prompt the template has no place for goes before it.
 */
function applyTemplate(template: string, prompt: string, system: string | undefined): string {
  const placeholder = (name: string) => new RegExp(`\\{\\{${name}\\}\\}|\\{${name}\\}`, 'g');
  const hasSystem = placeholder('system_prompt').test(template);
  const filled = template
    .replace(placeholder('system_prompt'), () => system ?? '')
    .replace(placeholder('prompt'), () => prompt);
  return system !== undefined && !hasSystem ? `${system}\n\n${filled}` : filled;
}

/** One generation, not streamed: the text, its usage and why it stopped. */
export async function complete(
  client: OpenAiClient,
  input: DecodedInput,
  params: InferenceParams,
  signal?: AbortSignal,
): Promise<GenerateChunk> {
  const request = generationRequest(client.target.model, input, params, false);
  const answer = await client.postJson(request.path, request.body, signal);
  const choice = firstChoice(answer);
  const text =
    request.path === '/completions' ? choice?.text : (choice?.message as Json | undefined)?.content;
  if (!choice || (typeof text !== 'string' && text !== null && text !== undefined))
    throw client.remoteError(`answered ${request.path} without a text choice`);
  return {
    data: { text: { raw: text ?? '' } },
    usage: usageOf(answer.usage),
    finishReason: finishReasonOf(choice.finish_reason) ?? 'stop',
  };
}

/** One generation, streamed: a chunk per piece of text, then one with the usage and finish reason. */
export async function* stream(
  client: OpenAiClient,
  input: DecodedInput,
  params: InferenceParams,
  signal?: AbortSignal,
): AsyncGenerator<GenerateChunk> {
  const request = generationRequest(client.target.model, input, params, true);
  let usage: TokenUsage | undefined;
  let finishReason: GenerateChunk['finishReason'];
  for await (const event of client.postStream(request.path, request.body, signal)) {
    usage = usageOf(event.usage) ?? usage;
    const choice = firstChoice(event);
    if (!choice) continue;
    const delta =
      request.path === '/completions'
        ? choice.text
        : ((choice.delta ?? choice.message) as Json | undefined)?.content;
    if (typeof delta === 'string' && delta !== '') yield { data: { text: { raw: delta } } };
    finishReason = finishReasonOf(choice.finish_reason) ?? finishReason;
  }
  if (!finishReason) throw client.remoteError('ended its stream before saying why it stopped');
  yield { data: { text: { raw: '' } }, ...(usage ? { usage } : {}), finishReason };
}

function firstChoice(answer: Json): Json | undefined {
  const choices = answer.choices;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  return typeof first === 'object' && first !== null ? (first as Json) : undefined;
}

/** 'length' is the token limit; every other reason (stop, eos, a stop sequence) is a stop. */
function finishReasonOf(value: unknown): GenerateChunk['finishReason'] {
  if (typeof value !== 'string' || value === '') return undefined;
  return value === 'length' ? 'length' : 'stop';
}

function usageOf(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = value as Json;
  if (typeof promptTokens !== 'number' || typeof completionTokens !== 'number') return undefined;
  return { promptTokens, completionTokens };
}

/** The batch's texts in one request; vectors go back to their inputs by `index`. */
export async function embed(
  client: OpenAiClient,
  batch: DecodedInput[],
  signal?: AbortSignal,
): Promise<Data[]> {
  const texts = batch.map((input) => {
    if (input.type !== 'text') throw inputError(`a text embedder reads text, not ${input.type}`);
    return input.text;
  });
  const answer = await client.postJson(
    '/embeddings',
    { model: client.target.model, input: texts, encoding_format: 'float' },
    signal,
  );
  const rows = Array.isArray(answer.data) ? (answer.data as unknown[]) : [];
  const vectors = new Array<number[] | undefined>(texts.length);
  rows.forEach((row, position) => {
    const { index, embedding } = (typeof row === 'object' && row !== null ? row : {}) as Json;
    const at = typeof index === 'number' ? index : position;
    if (Number.isInteger(at) && at >= 0 && at < texts.length && isVector(embedding)) vectors[at] = embedding;
  });
  return vectors.map((vector, i) => {
    if (!vector)
      throw client.remoteError(`answered /embeddings without a vector for input ${i} of ${texts.length}`);
    return { embeddings: [{ vector, num_dimensions: vector.length }] };
  });
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number');
}

/** Whisper's API: the file and settings as multipart form data; `task` picks the route. */
export async function transcribe(
  client: OpenAiClient,
  input: DecodedInput,
  params: InferenceParams,
  signal?: AbortSignal,
): Promise<Data> {
  if (input.type !== 'encoded' || input.media !== 'audio') {
    throw inputError(`this model reads audio, not ${input.type === 'encoded' ? input.media : input.type}`);
  }
  const { mime, ext } = audioType(input.bytes);
  const form = new FormData();
  form.append('file', new Blob([input.bytes], { type: mime }), `audio.${ext}`);
  form.append('model', client.target.model);
  form.append('response_format', 'json');
  if (typeof params.language === 'string' && params.language !== '') form.append('language', params.language);
  if (typeof params.temperature === 'number') form.append('temperature', String(params.temperature));
  const path = params.task === 'translate' ? '/audio/translations' : '/audio/transcriptions';
  const answer = await client.postJson(path, form, signal);
  if (typeof answer.text !== 'string') throw client.remoteError(`answered ${path} without a text`);
  return { text: { raw: answer.text } };
}

function startsWith(bytes: Uint8Array, ascii: string, offset = 0): boolean {
  if (bytes.length < offset + ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[offset + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** The image's type from its first bytes: engines want a data URL with the right MIME. */
export function imageMime(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (startsWith(bytes, '\x89PNG')) return 'image/png';
  if (startsWith(bytes, 'GIF8')) return 'image/gif';
  if (startsWith(bytes, 'RIFF') && startsWith(bytes, 'WEBP', 8)) return 'image/webp';
  throw inputError('the image must be a JPEG, PNG, GIF or WebP file for a remote engine');
}

/** The audio's type from its first bytes: Whisper servers go by the file name's extension. */
export function audioType(bytes: Uint8Array): { mime: string; ext: string } {
  if (startsWith(bytes, 'RIFF') && startsWith(bytes, 'WAVE', 8)) return { mime: 'audio/wav', ext: 'wav' };
  if (startsWith(bytes, 'ID3') || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0))
    return { mime: 'audio/mpeg', ext: 'mp3' };
  if (startsWith(bytes, 'OggS')) return { mime: 'audio/ogg', ext: 'ogg' };
  if (startsWith(bytes, 'fLaC')) return { mime: 'audio/flac', ext: 'flac' };
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3)
    return { mime: 'audio/webm', ext: 'webm' };
  if (startsWith(bytes, 'ftyp', 4)) return { mime: 'audio/mp4', ext: 'm4a' };
  throw inputError('the audio must be a WAV, MP3, OGG, FLAC, WebM or M4A file for a remote engine');
}
