import type { Data, InferenceParams } from '../../../core/wire.js';
import { ApiError } from '../../../sdk/errors.js';
import { readInputFile } from '../../../sdk/inputs.js';
import { CliUsageError } from '../../errors.js';
import type { ModelFacts, ParamFact } from './model-facts.js';

/**
 * Clarifai's current CLI names a model's inputs as keyword arguments: `--inputs '{"prompt": "Hi",
 * "max_tokens": 20}'` and `-i prompt=Hi -i max_tokens=20` (clarifai/cli/model.py, `predict`). Here
 * they map onto one v2 input and its inference params: "prompt" or "text" is the text, a key naming
 * image, video or audio ("image", "image_url") is that media as a URL or a local file, as Clarifai's
 * `_process_multimodal_inputs` reads them, and every other key is an inference param.
 */

type Media = 'image' | 'video' | 'audio';

export interface NamedInputs {
  text?: { key: string; value: string };
  media: { key: string; type: Media; value: string }[];
  /** Typed values, from --inputs JSON. */
  params: InferenceParams;
  /** Text values from -i KEY=VALUE, typed once the model's params are known (as Clarifai coerces by signature). */
  rawParams: Record<string, string>;
}

const TEXT_KEYS = ['prompt', 'text'];
const EXAMPLE = `e.g. --inputs '{"prompt": "Hello", "max_tokens": 100}' or -i prompt="Hello" -i max_tokens=100`;

/** Reads --inputs (JSON, or plain text as the prompt) and the -i pairs, which win key by key. */
export function parseNamedInputs(inputs: unknown, pairs: readonly string[]): NamedInputs | undefined {
  const entries: [string, unknown, boolean][] = [];
  if (typeof inputs === 'string' && !/^\s*[{["]/.test(inputs)) {
    if (inputs.trim() === '') throw new CliUsageError('--inputs must not be empty');
    entries.push(['--inputs', inputs, false]);
  } else if (inputs !== undefined && inputs !== null) {
    const obj = typeof inputs === 'string' ? parseJson(inputs) : inputs;
    if (typeof obj === 'string') entries.push(['--inputs', obj, false]);
    else if (obj !== null && typeof obj === 'object' && !Array.isArray(obj))
      for (const [k, v] of Object.entries(obj)) entries.push([k, v, false]);
    else throw new CliUsageError(`--inputs must be a JSON object of named inputs or a text, ${EXAMPLE}`);
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^[A-Za-z_][\w.-]*$/.test(key))
      throw new CliUsageError(
        `-i takes KEY=VALUE (${EXAMPLE}); got ${JSON.stringify(pair)}. A plain text goes after the model or in --inputs`,
      );
    const at = entries.findIndex(([k]) => k === key);
    if (at >= 0) entries.splice(at, 1);
    entries.push([key, pair.slice(eq + 1), true]);
  }
  if (entries.length === 0) return undefined;
  const named: NamedInputs = { media: [], params: {}, rawParams: {} };
  for (const [key, value, raw] of entries) {
    const media = mediaOf(key);
    if (key === '--inputs' || TEXT_KEYS.includes(key)) {
      if (typeof value !== 'string') throw new CliUsageError(`--inputs "${key}" must be a text`);
      if (named.text) throw new CliUsageError(`give the text once: got "${named.text.key}" and "${key}"`);
      named.text = { key, value };
    } else if (media) {
      if (typeof value !== 'string' || value === '')
        throw new CliUsageError(`"${key}" must be a URL or a local file path`);
      const same = named.media.find((m) => m.type === media);
      if (same) throw new CliUsageError(`one input holds one ${media}: got "${same.key}" and "${key}"`);
      named.media.push({ key, type: media, value });
    } else if (raw) {
      named.rawParams[key] = value as string;
    } else {
      named.params[key] = value;
    }
  }
  return named;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliUsageError(`--inputs is not valid JSON (${(err as Error).message}); ${EXAMPLE}`);
  }
}

function mediaOf(key: string): Media | undefined {
  const k = key.toLowerCase();
  return (['image', 'video', 'audio'] as const).find((m) => k.includes(m));
}

/** Whether the named inputs carry an input (text or media), not just params. */
export function namesInput(named: NamedInputs | undefined): boolean {
  return named !== undefined && (named.text !== undefined || named.media.length > 0);
}

/**
 * Checks the named inputs against what the model takes, types the -i params by the model's
 * params, and reads local media. Returns the input's data (when one was named) and the params.
 */
export async function resolveNamed(
  given: NamedInputs,
  facts: ModelFacts,
): Promise<{ data?: Data; params: InferenceParams }> {
  // a key that names one of the model's params is that param, even when it mentions a medium
  // (a model folder's `image_size`): only the model's params say so, hence here and not at parsing
  const isParam = (key: string) => facts.params.some((p) => p.name === key);
  const named: NamedInputs = {
    ...given,
    media: given.media.filter((m) => !isParam(m.key)),
    rawParams: {
      ...given.rawParams,
      ...Object.fromEntries(given.media.filter((m) => isParam(m.key)).map((m) => [m.key, m.value])),
    },
  };
  const takes = facts.inputs;
  const wrong = [
    ...(named.text && takes.length > 0 && !takes.includes('text') ? [named.text.key] : []),
    ...named.media.filter((m) => takes.length > 0 && !takes.includes(m.type)).map((m) => m.key),
  ];
  if (wrong.length > 0) throw new CliUsageError(notAnInput(wrong[0]!, facts));
  const params: InferenceParams = { ...named.params };
  for (const [key, value] of Object.entries(named.rawParams))
    params[key] = coerce(
      key,
      value,
      facts.params.find((p) => p.name === key),
    );
  if (!namesInput(named)) return { params };
  const data: Data = {};
  if (named.text) data.text = { raw: named.text.value };
  for (const m of named.media) {
    data[m.type] = /^https?:\/\//i.test(m.value)
      ? { url: m.value }
      : { base64: (await readInputFile(m.value, `"${m.key}"`)).toString('base64') };
  }
  return { data, params };
}

function inputKeys(facts: ModelFacts): string {
  const keys = facts.inputs.map((t) => (t === 'text' ? 'prompt (or text)' : `${t} (a URL or a file)`));
  return `input keys: ${keys.join(', ') || 'prompt, image, audio, video'}; every other key is an inference param`;
}

function notAnInput(key: string, facts: ModelFacts): string {
  const params = facts.params.map((p) => p.name);
  return (
    `model ${facts.model.id} (${facts.typeId}) takes ${facts.inputs.join(' and ')}, so "${key}" is not one of its inputs; ` +
    `${inputKeys(facts)} (${params.length > 0 ? params.join(', ') : 'it takes none'})`
  );
}

/**
 * The server refuses an unknown param with the model's list (a model may declare params without
 * defaults, which no client sees); when the name came from -i/--inputs, the input keys are added.
 */
export function withInputKeys(
  err: unknown,
  named: NamedInputs | undefined,
  facts: ModelFacts | undefined,
): unknown {
  if (!named || !facts || !(err instanceof ApiError)) return err;
  const details = err.details ?? '';
  const keys = [...Object.keys(named.params), ...Object.keys(named.rawParams)];
  if (!/inference param/.test(details) || !keys.some((k) => details.includes(`"${k}"`))) return err;
  return new ApiError({
    httpStatus: err.httpStatus,
    code: err.code,
    description: err.description,
    details: `${details} (in -i/--inputs, ${inputKeys(facts)})`,
    ...(err.reqId ? { reqId: err.reqId } : {}),
  });
}

/** An -i value as its param's type; a name the model does not list goes as text, for the server to judge. */
function coerce(key: string, value: string, fact: ParamFact | undefined): unknown {
  const bad = () =>
    new CliUsageError(
      `-i ${key}=${value}: ${key} is ${fact!.type}${fact!.allowed ? ` (${fact!.allowed})` : ''}`,
    );
  switch (fact?.type) {
    case 'int':
    case 'float': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || (fact.type === 'int' && !Number.isInteger(n)))
        throw bad();
      return n;
    }
    case 'bool':
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      throw bad();
    case 'list[str]':
      if (value.startsWith('[')) {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          throw bad();
        }
      }
      return [value];
    default:
      return value;
  }
}

/** One input's data from two places (a file and a named prompt); a part given twice is refused. */
export function mergeData(a: Data, b: Data, what: string): Data {
  const twice = Object.keys(b).filter((k) => Object.hasOwn(a, k));
  if (twice.length > 0)
    throw new CliUsageError(
      `the input's ${twice.join(' and ')} is given twice: by ${what} and by -i/--inputs`,
    );
  return { ...a, ...b };
}
