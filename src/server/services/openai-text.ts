import type { InferenceParams } from '../../core/wire.js';
import type { GenerationCommand } from './openai-generate.js';
import { OpenAiParamError } from './openai-models.js';
import { isObject } from './request-shape.js';

/**
 * OpenAI chat and completion request bodies mapped onto one Sibyl generation: the messages become
 * one input (text, or an image carrying text) and the sampling fields become inference params.
 * Fields that change nothing here (user, n: 1, penalties of 0...) are accepted; fields asking for
 * something this server cannot do (n > 1, tools, JSON schemas, logprobs) are refused by name
 * rather than silently ignored.
 */

export interface TextRequest {
  model: unknown;
  text: string;
  image?: GenerationCommand['image'];
  params: InferenceParams;
  stream: boolean;
  /** stream_options.include_usage: a last chunk with the token counts. */
  includeUsage: boolean;
}

type Body = Record<string, unknown>;

const bad = (param: string | null, details: string) => new OpenAiParamError(param, details);

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function optionalNumber(body: Body, name: string): number | undefined {
  const v = body[name];
  if (!present(v)) return undefined;
  if (typeof v !== 'number') throw bad(name, `${name} must be a number; got ${JSON.stringify(v)}`);
  return v;
}

function refuseUnless(body: Body, name: string, harmless: (v: unknown) => boolean, why: string): void {
  const v = body[name];
  if (present(v) && !harmless(v)) throw bad(name, `${name}: ${why}`);
}

/** The fields chat and completions share: sampling params, n, streaming, penalties. */
function common(
  body: unknown,
  maxTokenFields: readonly string[],
): { b: Body; req: Omit<TextRequest, 'text'> } {
  if (!isObject(body)) throw bad(null, 'the body must be a JSON object');
  const b = body;
  refuseUnless(b, 'n', (v) => v === 1, 'this server generates one choice per request (n must be 1)');
  for (const name of ['frequency_penalty', 'presence_penalty']) {
    refuseUnless(
      b,
      name,
      (v) => v === 0,
      'repetition penalties are not supported here (send 0 or leave it out)',
    );
  }
  refuseUnless(
    b,
    'logit_bias',
    (v) => isObject(v) && Object.keys(v).length === 0,
    'logit_bias is not supported here',
  );
  const params: InferenceParams = {};
  for (const name of ['temperature', 'top_p', 'top_k', 'seed']) {
    const v = optionalNumber(b, name);
    if (v !== undefined) params[name] = v;
  }
  // the newer name wins where a client sends both
  for (const name of maxTokenFields) {
    const v = optionalNumber(b, name);
    if (v !== undefined) {
      params.max_tokens = v;
      break;
    }
  }
  const stop = b.stop;
  if (typeof stop === 'string') params.stop = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) params.stop = stop;
  else if (present(stop)) throw bad('stop', 'stop must be a string or a list of strings');
  const stream = b.stream;
  if (present(stream) && typeof stream !== 'boolean') throw bad('stream', 'stream must be true or false');
  const options = b.stream_options;
  if (present(options) && !isObject(options)) throw bad('stream_options', 'stream_options must be an object');
  const includeUsage = isObject(options) && options.include_usage === true;
  return { b, req: { model: b.model, params, stream: stream === true, includeUsage } };
}

/** POST /v1/chat/completions */
export function parseChatRequest(body: unknown): TextRequest {
  const { b, req } = common(body, ['max_completion_tokens', 'max_tokens']);
  refuseUnless(b, 'tools', (v) => Array.isArray(v) && v.length === 0, 'tool calling is not supported here');
  refuseUnless(
    b,
    'functions',
    (v) => Array.isArray(v) && v.length === 0,
    'function calling is not supported here',
  );
  refuseUnless(b, 'tool_choice', (v) => v === 'none' || v === 'auto', 'tool calling is not supported here');
  refuseUnless(b, 'logprobs', (v) => v === false, 'logprobs are not supported here');
  refuseUnless(b, 'top_logprobs', (v) => v === 0, 'logprobs are not supported here');
  refuseUnless(
    b,
    'response_format',
    (v) => isObject(v) && v.type === 'text',
    'only {"type": "text"} is supported here (no JSON mode or json_schema)',
  );
  refuseUnless(
    b,
    'modalities',
    (v) => Array.isArray(v) && v.every((m) => m === 'text'),
    'only text output is supported here',
  );
  refuseUnless(b, 'audio', () => false, 'audio output is not supported here');
  const chat = parseMessages(b.messages);
  if (chat.system !== undefined) req.params.system_prompt = chat.system;
  return { ...req, text: chat.text, ...(chat.image ? { image: chat.image } : {}) };
}

/** POST /v1/completions: the prompt is sent as it is, without the model's chat template. */
export function parseCompletionRequest(body: unknown): TextRequest {
  const { b, req } = common(body, ['max_tokens']);
  refuseUnless(b, 'suffix', (v) => v === '', 'suffix (fill-in-the-middle) is not supported here');
  refuseUnless(b, 'echo', (v) => v === false, 'echo is not supported here');
  refuseUnless(b, 'best_of', (v) => v === 1, 'best_of must be 1 here');
  refuseUnless(b, 'logprobs', (v) => v === 0, 'logprobs are not supported here');
  let prompt = b.prompt;
  // a list of one prompt is the same request; several would need several choices
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string' || prompt === '') {
    throw bad(
      'prompt',
      'prompt must be one non-empty string (token lists and several prompts are not supported)',
    );
  }
  req.params.prompt_template = '{prompt}';
  return { ...req, text: prompt };
}

interface Chat {
  system?: string;
  text: string;
  image?: GenerationCommand['image'];
}

/**
 * System (and developer) messages become the system prompt; the last message must be the user's.
 * Earlier turns are folded into the input as a transcript, since a model here takes one input.
 */
function parseMessages(messages: unknown): Chat {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw bad('messages', 'messages must be a non-empty list');
  }
  const system: string[] = [];
  const turns: { role: 'user' | 'assistant'; text: string }[] = [];
  let image: Chat['image'];
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!isObject(m)) throw bad(where, `${where} must be an object`);
    const last = i === messages.length - 1;
    if (m.role === 'system' || m.role === 'developer') {
      system.push(contentText(m.content, where, false).text);
    } else if (m.role === 'user' || m.role === 'assistant') {
      const content = contentText(m.content, where, last && m.role === 'user');
      if (content.image) image = content.image;
      turns.push({ role: m.role, text: content.text });
    } else {
      throw bad(
        `${where}.role`,
        `${where}.role must be system, developer, user or assistant; got ${JSON.stringify(m.role)}`,
      );
    }
  });
  const lastTurn = turns.at(-1);
  if ((messages.at(-1) as Body).role !== 'user' || !lastTurn) {
    throw bad('messages', 'the last message must be from the user');
  }
  if (lastTurn.text === '' && !image) throw bad('messages', 'the last user message is empty');
  const earlier = turns.slice(0, -1);
  const text =
    earlier.length === 0
      ? lastTurn.text
      : 'Earlier in this conversation:\n' +
        earlier.map((t) => `${t.role === 'user' ? 'User' : 'Assistant'}: ${t.text}`).join('\n') +
        `\n\n${lastTurn.text}`;
  return { ...(system.length > 0 ? { system: system.join('\n\n') } : {}), text, ...(image ? { image } : {}) };
}

/** A message's text, and its image where images are allowed (only the last user message). */
function contentText(content: unknown, where: string, imageAllowed: boolean): Pick<Chat, 'text' | 'image'> {
  if (typeof content === 'string') return { text: content };
  if (!Array.isArray(content))
    throw bad(`${where}.content`, `${where}.content must be a string or a list of parts`);
  const texts: string[] = [];
  let image: Chat['image'];
  content.forEach((part, j) => {
    const at = `${where}.content[${j}]`;
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string') {
      texts.push(part.text);
    } else if (isObject(part) && part.type === 'image_url') {
      if (!imageAllowed) throw bad(at, `${at}: images are only taken in the last message, from the user`);
      if (image) throw bad(at, `${at}: one image per request is supported`);
      const ref = part.image_url;
      const url = isObject(ref) ? ref.url : ref;
      if (typeof url !== 'string') throw bad(at, `${at}.image_url.url must be a string`);
      image = imageSource(url, at);
    } else {
      throw bad(at, `${at} must be a text or image_url part`);
    }
  });
  return { text: texts.join('\n'), ...(image ? { image } : {}) };
}

/** A data: URL carries the image itself; an http(s) URL is fetched by the server's safe fetch. */
function imageSource(url: string, at: string): NonNullable<Chat['image']> {
  if (/^https?:\/\//i.test(url)) return { url };
  const data = /^data:[^,;]*(;[^,;=]+=[^,;]*)*;base64,/i.exec(url);
  if (data) return { base64: url.slice(data[0].length) };
  throw bad(at, `${at}.image_url.url must be an http(s) URL or a base64 data: URL`);
}
