import { SibylError } from '../../core/errors.js';
import type { DecodedInput } from '../types.js';
import { OpenAiClient, RawBody, type EngineTarget } from './openai-client.js';
import { clip } from './openai-http.js';
import {
  BinaryReader,
  checkTensorHead,
  decodeBytes,
  decodeNumbers,
  elementCount,
  encodeBytes,
  flatData,
  HEADER_LENGTH,
  isRecord,
  joinBody,
  splitBody,
} from './oip-tensors.js';

/**
 * One model on a remote Open Inference Protocol v2 engine (Triton, KServe, MLServer, another
 * Sibyl's `/oip` or `--oip-port`). HTTP, retries, timeouts and error wording are the openai
 * runtime's client (openai-client.ts): only the body differs. Errors name the engine URL and
 * model, never the key.
 */

export interface OipTarget extends EngineTarget {
  /** The engine's model version; absent: the engine's default. */
  version?: string;
  /** The input tensor's name (Sibyl's contract: the model's input type). */
  input: string;
}

/** An output tensor as read back: numbers for numeric datatypes, strings for BYTES. */
export interface ReadTensor {
  name: string;
  datatype: string;
  shape: number[];
  values: number[] | string[];
}

export class OipClient {
  private readonly http: OpenAiClient;

  constructor(readonly target: OipTarget) {
    this.http = new OpenAiClient(target);
  }

  get name(): string {
    return this.http.name;
  }

  /** The engine answered, but not with what Sibyl's contract or the model's settings expect. */
  remoteError(what: string): Error {
    return this.http.remoteError(what);
  }

  /**
   * Sends a batch as one BYTES tensor of shape [N]: texts as JSON strings, media as binary data
   * (one 4-byte length and the file's bytes per element) after the JSON header.
   */
  async infer(
    batch: readonly DecodedInput[],
    parameters: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Map<string, ReadTensor>> {
    const { input, model, version } = this.target;
    const path = `/v2/models/${encodeURIComponent(model)}${version ? `/versions/${encodeURIComponent(version)}` : ''}/infer`;
    const texts = batch.every((b) => b.type === 'text');
    const tensor: Record<string, unknown> = { name: input, datatype: 'BYTES', shape: [batch.length] };
    const parts: Uint8Array[] = [];
    if (texts) {
      tensor.data = batch.map((b) => (b as { text: string }).text);
    } else {
      const bytes = encodeBytes(
        batch.map((b) => {
          if (b.type === 'encoded') return b.bytes;
          if (b.type === 'text') return Buffer.from(b.text, 'utf8');
          throw new Error(`the oip runtime sends media undecoded; got a decoded ${b.type}`);
        }),
      );
      tensor.parameters = { binary_data_size: bytes.length };
      parts.push(bytes);
    }
    const json = { inputs: [tensor], ...(Object.keys(parameters).length > 0 ? { parameters } : {}) };
    const { body, headerLength } = joinBody(json, parts);
    const headers: Record<string, string> =
      parts.length > 0
        ? { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(headerLength) }
        : { 'content-type': 'application/json' };
    const answer = await this.http.postRaw(path, new RawBody(body, headers), signal);
    try {
      return readOutputs(answer.bytes, answer.headers.get(HEADER_LENGTH) ?? undefined);
    } catch (error) {
      const why =
        error instanceof SibylError
          ? (error.details ?? error.message)
          : error instanceof Error
            ? error.message
            : String(error);
      throw this.remoteError(
        `answered ${path} with a body that is not an OIP inference response: ${clip(why, 300)}`,
      );
    }
  }
}

/** The `outputs` of an inference response, JSON or binary, by name. */
function readOutputs(bytes: Uint8Array, headerLength: string | undefined): Map<string, ReadTensor> {
  const { json, binary } = splitBody(bytes, headerLength);
  if (!isRecord(json) || !Array.isArray(json.outputs)) throw new Error('it has no "outputs" list');
  const reader = new BinaryReader(binary);
  const out = new Map<string, ReadTensor>();
  json.outputs.forEach((o: unknown, i) => {
    const where = `outputs[${i}]`;
    const t = checkTensorHead(o, where);
    const count = elementCount(t.shape, where);
    let values: number[] | string[];
    const size = t.parameters?.binary_data_size;
    if (size !== undefined) {
      const raw = reader.take(size, where);
      values =
        t.datatype === 'BYTES'
          ? decodeBytes(raw, where).map((b) => b.toString('utf8'))
          : decodeNumbers(raw, t.datatype, where);
    } else {
      const data = flatData(t.data, where);
      const want = t.datatype === 'BYTES' ? 'string' : t.datatype === 'BOOL' ? 'boolean' : 'number';
      if (!data.every((d) => typeof d === want))
        throw new Error(`${where}.data holds values that are not ${want}s`);
      values = t.datatype === 'BOOL' ? data.map((d) => (d ? 1 : 0)) : (data as number[] | string[]);
    }
    if (values.length !== count)
      throw new Error(
        `${where} has ${values.length} values but its shape ${JSON.stringify(t.shape)} holds ${count}`,
      );
    out.set(t.name, { name: t.name, datatype: t.datatype, shape: t.shape, values });
  });
  return out;
}
