import { open, stat } from 'node:fs/promises';
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { SibylError } from '../../core/errors.js';
import type { Data, InferenceParams } from '../../core/wire.js';
import { ConfigReader, folderError } from '../config-reader.js';
import { existingFile } from '../folder-paths.js';
import { textOf } from '../models/inputs.js';
import type { ModelSpec } from '../spec.js';
import type { DecodedInput, GenerateChunk, LoadedModel, LoadOptions, Runtime, TokenUsage } from '../types.js';
import { buildPrompt, checkFits, sample, type ChatWrapper, type NodeLlamaCpp } from './llama-generate.js';

/** A model's trained context can be 128k tokens; its KV cache at that size would not fit a worker. */
const MAX_DEFAULT_CONTEXT = 4096;
const MAX_THREADS = 256;
/** llama.cpp's last log lines, kept to explain why a file did not load. */
const KEPT_LOG_LINES = 5;

/**
 * What `predict` returns: one text output per input, with each input's token usage beside it (not
 * inside the v2 data, which goes out on the wire as it is). A structured clone drops the `usage`
 * property, so a worker must read it before posting the outputs.
 */
export type OutputsWithUsage = Data[] & { usage: TokenUsage[] };

interface Settings {
  file: string;
  path: string;
  contextSize: number | undefined;
  threads: number;
}

/**
 * GGUF language models on llama.cpp (node-llama-cpp, CPU): `runtime: {kind: llama-cpp, file:
 * model.gguf, context_size?, threads?}`. One thread unless `threads` says more, as for onnx: the
 * engine already runs a worker per core. The context defaults to the model's trained one, at
 * most 4096 tokens. A loaded model runs one generation at a time; others wait their turn.
 *
 * Params: without `prompt_template` the GGUF's chat template wraps one user turn (after
 * `system_prompt`); with it the text is completed raw. Temperature left out is 0.7; 0 is greedy.
 * Completion tokens count every sampled token, the end-of-generation one included. A prompt
 * that fills the context is refused; an answer that reaches the context's end stops for length.
 */
export class LlamaCppRuntime implements Runtime {
  private lib?: Promise<{ lib: NodeLlamaCpp; llama: Llama }>;
  private readonly log: string[] = [];

  async validate(spec: ModelSpec): Promise<ModelSpec> {
    const { model } = await this.open(spec);
    await model.dispose();
    return spec;
  }

  async load(spec: ModelSpec, opts: LoadOptions): Promise<LoadedModel> {
    const { lib, model, settings } = await this.open(spec);
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize: settings.contextSize ?? Math.min(model.trainContextSize, MAX_DEFAULT_CONTEXT),
        threads: settings.threads,
        sequences: 1,
      });
    } catch (error) {
      await model.dispose();
      throw folderError(`${settings.file} loaded, but its context could not be made: ${reason(error)}`);
    }
    const loaded = new LlamaCppModel(lib, model, context, (await stat(settings.path)).size);
    if (opts.warmUp) {
      for await (const chunk of loaded.generate({ type: 'text', text: 'Hi' }, { max_tokens: 1 })) void chunk;
    }
    return loaded;
  }

  /** node-llama-cpp is imported on first use, and its native library started once per runtime. */
  private library(): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
    this.lib ??= (async () => {
      const lib = await import('node-llama-cpp');
      const llama = await lib.getLlama({
        gpu: false,
        build: 'never',
        progressLogs: false,
        logLevel: lib.LlamaLogLevel.warn,
        logger: (_level, message) => {
          const line = message.trim();
          if (line === '') return;
          this.log.push(line);
          if (this.log.length > KEPT_LOG_LINES) this.log.shift();
        },
      });
      return { lib, llama };
    })();
    return this.lib;
  }

  /** Checks the settings and the file, then loads the weights: validate and load refuse alike. */
  private async open(spec: ModelSpec): Promise<{ lib: NodeLlamaCpp; model: LlamaModel; settings: Settings }> {
    const settings = await readSettings(spec);
    await checkMagic(settings);
    const { lib, llama } = await this.library();
    this.log.length = 0;
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: settings.path });
    } catch (error) {
      const said = this.log.length > 0 ? ` (llama.cpp: ${this.log.join('; ')})` : '';
      throw folderError(`${settings.file} does not load as a GGUF model: ${reason(error)}${said}`);
    }
    const trained = model.trainContextSize;
    if (settings.contextSize !== undefined && settings.contextSize > trained) {
      await model.dispose();
      throw folderError(
        `config.yaml runtime.context_size is ${settings.contextSize}, but ${settings.file} was trained ` +
          `for at most ${trained} tokens`,
      );
    }
    return { lib, model, settings };
  }
}

/**
 * One loaded GGUF: its weights, one context with one sequence, and a queue so that concurrent
 * requests take turns on the sequence rather than mixing their tokens.
 */
class LlamaCppModel implements LoadedModel {
  private turn: Promise<void> = Promise.resolve();
  /** Resolved on first use and kept: parsing the GGUF's chat template costs 0.1-0.4 s a time. */
  private wrapper: ChatWrapper | undefined;

  constructor(
    private readonly lib: NodeLlamaCpp,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly bytes: number,
  ) {}

  generate(
    input: DecodedInput,
    params: InferenceParams,
    signal?: AbortSignal,
  ): AsyncGenerator<GenerateChunk> {
    const chatWrapper = () => (this.wrapper ??= this.lib.resolveChatWrapper(this.model));
    const prompt = buildPrompt(chatWrapper, this.model, textOf(input), params);
    checkFits(prompt.tokens.length, this.context.contextSize);
    // The sequence is leased inside the token loop's own generator (one generator per token, not
    // two: each layer costs microtasks per token); it is disposed and the turn released however
    // the generation ends (finished, failed, aborted, or its reader left), so the next starts clean.
    return sample(
      this.model,
      async () => {
        const release = await this.waitTurn();
        const sequence = this.context.getSequence();
        return {
          sequence,
          release: () => {
            sequence.dispose();
            release();
          },
        };
      },
      prompt,
      params,
      signal,
    );
  }

  async predict(batch: DecodedInput[], params: InferenceParams, signal?: AbortSignal): Promise<Data[]> {
    const outputs: Data[] = [];
    const usage: TokenUsage[] = [];
    for (const input of batch) {
      let raw = '';
      for await (const chunk of this.generate(input, params, signal) as AsyncIterable<GenerateChunk>) {
        raw += chunk.data.text?.raw ?? '';
        if (chunk.usage) usage.push(chunk.usage);
      }
      outputs.push({ text: { raw } });
    }
    return Object.assign(outputs, { usage }) satisfies OutputsWithUsage;
  }

  async unload(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }

  private async waitTurn(): Promise<() => void> {
    let release!: () => void;
    const previous = this.turn;
    this.turn = new Promise((resolve) => (release = resolve));
    await previous;
    return release;
  }
}

async function readSettings(spec: ModelSpec): Promise<Settings> {
  const runtime = new ConfigReader(spec.runtime, 'runtime');
  runtime.allowOnly(['kind', 'file', 'context_size', 'threads']);
  const file = runtime.requiredString('file');
  return {
    file,
    path: await existingFile(spec, file, 'runtime.file'),
    contextSize: runtime.number('context_size', { integer: true, min: 16, max: 1 << 20 }),
    threads: runtime.number('threads', { integer: true, min: 1, max: MAX_THREADS }) ?? 1,
  };
}

/** A cheap first look, so a wrong file is named as such rather than by llama.cpp's parser. */
async function checkMagic({ file, path }: Settings): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || head.toString('latin1') !== 'GGUF') {
      throw folderError(`${file} is not a GGUF file (it does not start with the bytes "GGUF")`);
    }
  } finally {
    await handle.close();
  }
}

function reason(error: unknown): string {
  if (error instanceof SibylError) return error.details ?? error.message;
  return error instanceof Error ? error.message : String(error);
}
