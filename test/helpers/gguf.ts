import { readFile, writeFile } from 'node:fs/promises';

/**
 * A tiny llama-architecture GGUF (v3) written in code, so the llama-cpp runtime is tested on a real
 * file llama.cpp loads, without downloading a model. The weights are random (seeded), so the text
 * is nonsense, but it is real generation: tokens, sampling, stop sequences, the chat template.
 */

export interface TinyGgufOptions {
  /** Seeds the weights: the same seed writes the same file. */
  seed?: number;
  layers?: number;
  contextLength?: number;
}

export interface TinyGguf {
  /** Tokens in the vocabulary. */
  vocabSize: number;
  contextLength: number;
  bytes: number;
}

const EMBED = 64;
const HEADS = 4;
const FEED_FORWARD = 128;
const ALIGNMENT = 32;

/** GGUF metadata value types (ggml docs/gguf.md). */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const GGML_F32 = 0;

/** Token types llama.cpp reads from tokenizer.ggml.token_type. */
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const BYTE = 6;

const WORDS = (
  'the a an and of to in is it that was he she for on are as with his her they at be this from ' +
  'have or by one had not but what all were when we there can your which their said if do will ' +
  'each about how up out them then many some so these would other into has more two like him see ' +
  'time could no make than first been its who now people my made over did down only way find use ' +
  'may water long little very after words called just where most know cat dog sun moon tree river ' +
  'stone light dark red blue green house road city sea sky bird fish'
).split(' ');

/** The vocabulary: specials, the 256 byte tokens, characters, and every prefix of each word piece. */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types = [UNKNOWN, CONTROL, CONTROL, CONTROL, CONTROL];
  const scores = [0, 0, 0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(BYTE);
    scores.push(0);
  }
  const pieces = new Set<string>(['▁']);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-:;") pieces.add(c);
  // SPM merges adjacent pieces only into pieces the vocabulary has, so every prefix must be one.
  for (const word of WORDS) {
    const piece = `▁${word}`;
    for (let end = 2; end <= piece.length; end++) pieces.add(piece.slice(0, end));
  }
  for (const piece of pieces) {
    tokens.push(piece);
    types.push(NORMAL);
    // longer pieces score higher, so the tokenizer prefers whole words
    scores.push(-100 + piece.length);
  }
  return { tokens, scores, types };
}

const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + " +
  "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Mulberry32: small, seeded, good enough for weights nobody trains. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Little-endian bytes, grown as written. */
class Bytes {
  private parts: Buffer[] = [];
  length = 0;

  private push(buf: Buffer): void {
    this.parts.push(buf);
    this.length += buf.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  string(s: string): void {
    const utf8 = Buffer.from(s, 'utf8');
    this.u64(utf8.length);
    this.push(utf8);
  }
  raw(buf: Buffer): void {
    this.push(buf);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

type Value =
  | { u32: number }
  | { f32: number }
  | { bool: boolean }
  | { string: string }
  | { strings: string[] }
  | { f32s: number[] }
  | { i32s: number[] };

function writeKv(out: Bytes, key: string, value: Value): void {
  out.string(key);
  if ('u32' in value) {
    out.u32(T.u32);
    out.u32(value.u32);
  } else if ('f32' in value) {
    out.u32(T.f32);
    out.f32(value.f32);
  } else if ('bool' in value) {
    out.u32(T.bool);
    out.raw(Buffer.from([value.bool ? 1 : 0]));
  } else if ('string' in value) {
    out.u32(T.string);
    out.string(value.string);
  } else {
    const [type, list, write] =
      'strings' in value
        ? [T.string, value.strings, (v: string) => out.string(v)]
        : 'f32s' in value
          ? [T.f32, value.f32s, (v: number) => out.f32(v)]
          : [T.i32, value.i32s, (v: number) => out.i32(v)];
    out.u32(T.array);
    out.u32(type);
    out.u64(list.length);
    for (const v of list as never[]) write(v);
  }
}

interface TensorData {
  name: string;
  /** ggml order: dims[0] moves fastest (a matrix is [columns, rows]). */
  dims: number[];
  data: Float32Array;
}

/** Writes the tiny model to `path`; returns what a test needs to know about it. */
export async function writeTinyGguf(path: string, opts: TinyGgufOptions = {}): Promise<TinyGguf> {
  const layers = opts.layers ?? 2;
  const contextLength = opts.contextLength ?? 512;
  const random = prng(opts.seed ?? 1);
  const vocab = vocabulary();
  const nVocab = vocab.tokens.length;
  const uniform = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const ones = (n: number) => new Float32Array(n).fill(1);

  // Logits of about std 3 give varied but not uniform sampling. Rows of tokens other than word
  // pieces stay zero, so end-of-text, controls and raw bytes are rare: generations run to length.
  const output = uniform(EMBED * nVocab, 0.65);
  vocab.types.forEach((type, id) => {
    if (type !== NORMAL) output.fill(0, id * EMBED, (id + 1) * EMBED);
  });
  const tensors: TensorData[] = [
    { name: 'token_embd.weight', dims: [EMBED, nVocab], data: uniform(EMBED * nVocab, 1) },
    { name: 'output_norm.weight', dims: [EMBED], data: ones(EMBED) },
    { name: 'output.weight', dims: [EMBED, nVocab], data: output },
  ];
  const square = 1 / Math.sqrt(EMBED);
  for (let i = 0; i < layers; i++) {
    const blk = (name: string, dims: number[], data: Float32Array) =>
      tensors.push({ name: `blk.${i}.${name}.weight`, dims, data });
    blk('attn_norm', [EMBED], ones(EMBED));
    for (const name of ['attn_q', 'attn_k', 'attn_v', 'attn_output'])
      blk(name, [EMBED, EMBED], uniform(EMBED * EMBED, square));
    blk('ffn_norm', [EMBED], ones(EMBED));
    blk('ffn_gate', [EMBED, FEED_FORWARD], uniform(EMBED * FEED_FORWARD, square));
    blk('ffn_up', [EMBED, FEED_FORWARD], uniform(EMBED * FEED_FORWARD, square));
    blk('ffn_down', [FEED_FORWARD, EMBED], uniform(FEED_FORWARD * EMBED, 1 / Math.sqrt(FEED_FORWARD)));
  }

  const metadata: [string, Value][] = [
    ['general.architecture', { string: 'llama' }],
    ['general.name', { string: 'sibyl-tiny-llama' }],
    ['general.alignment', { u32: ALIGNMENT }],
    ['llama.context_length', { u32: contextLength }],
    ['llama.embedding_length', { u32: EMBED }],
    ['llama.block_count', { u32: layers }],
    ['llama.feed_forward_length', { u32: FEED_FORWARD }],
    ['llama.attention.head_count', { u32: HEADS }],
    ['llama.attention.head_count_kv', { u32: HEADS }],
    ['llama.attention.layer_norm_rms_epsilon', { f32: 1e-5 }],
    ['llama.rope.dimension_count', { u32: EMBED / HEADS }],
    ['llama.rope.freq_base', { f32: 10000 }],
    ['llama.vocab_size', { u32: nVocab }],
    ['tokenizer.ggml.model', { string: 'llama' }],
    ['tokenizer.ggml.tokens', { strings: vocab.tokens }],
    ['tokenizer.ggml.scores', { f32s: vocab.scores }],
    ['tokenizer.ggml.token_type', { i32s: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { u32: 0 }],
    ['tokenizer.ggml.bos_token_id', { u32: 1 }],
    ['tokenizer.ggml.eos_token_id', { u32: 2 }],
    ['tokenizer.ggml.add_bos_token', { bool: true }],
    ['tokenizer.ggml.add_eos_token', { bool: false }],
    ['tokenizer.chat_template', { string: CHAT_TEMPLATE }],
  ];

  const out = new Bytes();
  out.raw(Buffer.from('GGUF', 'ascii'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) writeKv(out, key, value);
  // Offsets count from the start of the data section, each aligned.
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offset = Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
    offsets.push(offset);
    out.string(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_F32);
    out.u64(offset);
    offset += t.data.byteLength;
  }
  out.padTo(ALIGNMENT);
  const dataStart = out.length;
  tensors.forEach((t, i) => {
    out.raw(Buffer.alloc(dataStart + offsets[i]! - out.length));
    out.raw(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
  const file = out.toBuffer();
  await writeFile(path, file);
  return { vocabSize: nVocab, contextLength, bytes: file.length };
}

/** A GGUF cut short: a valid header and metadata, then the weights end too early. */
export async function writeTruncatedGguf(path: string, from: string): Promise<void> {
  const whole = await readFile(from);
  await writeFile(path, whole.subarray(0, Math.floor(whole.length / 2)));
}
