import { InvalidArgumentError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Data, Frame, InferenceParams } from '../../core/wire.js';
import { findRuntime } from '../runtimes/index.js';
import { modelName, versionKey, type ModelSpec } from '../spec.js';
import type { DecodedInput, EngineInput, GenerateChunk, LoadedModel, Runtime, TokenUsage } from '../types.js';
import { ChunkCoalescer } from './coalesce.js';
import { decodeInput, decodeVideoFrames, type DecodedFrame } from './decode.js';
import { asSibylError, toWireError } from './errors.js';
import type { FromWorker, Outcome, ToWorker, WorkerSettings } from './protocol.js';

/**
 * What runs inside one worker thread: runtime instances (created on first use, holding their
 * shared state), the models loaded here by version, and the jobs the engine sends. Kept apart
 * from the thread entry point so it reads as plain code.
 */
export class WorkerHost {
  private readonly runtimes = new Map<string, Promise<Runtime>>();
  private readonly models = new Map<string, Promise<LoadedModel>>();
  private readonly aborts = new Map<number, AbortController>();

  constructor(
    private readonly settings: WorkerSettings,
    private readonly send: (msg: FromWorker) => void,
  ) {}

  async handle(msg: ToWorker): Promise<void> {
    if (msg.op === 'abort') {
      this.aborts.get(msg.job)?.abort();
      return;
    }
    try {
      switch (msg.op) {
        case 'run':
          return await this.run(msg.job, msg.spec, msg.inputs, msg.params);
        case 'generate':
          return await this.generate(msg.job, msg.spec, msg.input, msg.params);
        case 'validate':
          return this.send({ op: 'validated', job: msg.job, spec: await this.validate(msg.spec) });
        case 'load': {
          const started = performance.now();
          const model = await this.model(msg.spec);
          return this.send({
            op: 'loaded',
            job: msg.job,
            bytes: model.bytes ?? 0,
            ms: performance.now() - started,
          });
        }
        case 'unload':
          await this.unload(msg.key);
          return this.send({ op: 'unloaded', job: msg.job });
      }
    } catch (error) {
      const fatal = isFatal(error);
      const model = 'spec' in msg ? `model ${modelName(msg.spec)}` : 'the engine worker';
      this.send({
        op: 'failed',
        job: msg.job,
        error: toWireError(fatal ? crashed(model, error) : asSibylError(error, `${model} failed`)),
        fatal,
      });
    }
  }

  private async runtime(kind: string): Promise<Runtime> {
    let runtime = this.runtimes.get(kind);
    if (!runtime) {
      const factory = findRuntime(kind);
      if (!factory) throw new Error(`no runtime "${kind}" in this engine`);
      runtime = factory();
      runtime.catch(() => this.runtimes.delete(kind));
      this.runtimes.set(kind, runtime);
    }
    return runtime;
  }

  private async validate(spec: ModelSpec): Promise<ModelSpec> {
    const runtime = await this.runtime(spec.runtime.kind);
    return runtime.validate ? runtime.validate(spec) : spec;
  }

  /** Loads once per version; a failed load is forgotten so the next job retries it. */
  private model(spec: ModelSpec): Promise<LoadedModel> {
    const key = versionKey(spec);
    let model = this.models.get(key);
    if (!model) {
      model = this.runtime(spec.runtime.kind)
        .then((runtime) => runtime.load(spec, { warmUp: this.settings.warmUp }))
        .catch((error: unknown) => {
          this.models.delete(key);
          throw asSibylError(error, `model ${modelName(spec)} could not be loaded`);
        });
      this.models.set(key, model);
    }
    return model;
  }

  private async unload(key: string): Promise<void> {
    const model = this.models.get(key);
    this.models.delete(key);
    if (model) await (await model).unload();
  }

  private async run(job: number, spec: ModelSpec, inputs: EngineInput[], params: InferenceParams) {
    const loading = !this.models.has(versionKey(spec));
    // registered before decoding: an abort also stops a decode that runs a program (ffmpeg)
    const abort = new AbortController();
    this.aborts.set(job, abort);
    try {
      const t0 = performance.now();
      const model = await this.model(spec);
      const t1 = performance.now();
      // Each input decodes on its own: one broken image fails that input, not its neighbours.
      const decoded = await Promise.all(inputs.map((input) => this.decode(spec, model, input, abort.signal)));
      const t2 = performance.now();
      const outcomes = await this.predictWithFrames(spec, model, decoded, params, abort.signal);
      const t3 = performance.now();
      this.send({
        op: 'ran',
        job,
        outcomes,
        timings: { ...(loading ? { loadMs: t1 - t0 } : {}), decodeMs: t2 - t1, predictMs: t3 - t2 },
        bytes: model.bytes ?? 0,
      });
    } finally {
      this.aborts.delete(job);
    }
  }

  /**
   * Streams one input's generation to the engine as it comes. An abort (the caller has gone) stops
   * the runtime through its signal; whatever it says after that is not sent.
   */
  private async generate(job: number, spec: ModelSpec, input: EngineInput, params: InferenceParams) {
    const loading = !this.models.has(versionKey(spec));
    const t0 = performance.now();
    const model = await this.model(spec);
    if (!model.generate) {
      throw new InvalidArgumentError(
        `model ${modelName(spec)} (${spec.modelTypeId}) does not generate text; predict with POST .../outputs instead`,
        StatusCode.MODEL_INVALID_ARGUMENT,
      );
    }
    const t1 = performance.now();
    const abort = new AbortController();
    this.aborts.set(job, abort);
    let decoded: DecodedInput;
    try {
      decoded = await decodeInput(
        spec,
        input,
        this.settings.maxImagePixels,
        model.encodedInputs,
        abort.signal,
      );
    } catch (error) {
      this.aborts.delete(job);
      throw error;
    }
    const t2 = performance.now();
    const pieces = new ChunkCoalescer((chunk) => this.send({ op: 'chunk', job, chunk }));
    try {
      for await (const chunk of model.generate(decoded, params, abort.signal)) {
        if (abort.signal.aborted) break;
        pieces.add(chunk);
      }
      if (abort.signal.aborted) pieces.discard();
      else pieces.flush();
    } catch (error) {
      // what was generated before the failure still reaches the caller, then the error
      pieces.flush();
      throw error;
    } finally {
      this.aborts.delete(job);
    }
    this.send({
      op: 'generated',
      job,
      timings: {
        ...(loading ? { loadMs: t1 - t0 } : {}),
        decodeMs: t2 - t1,
        predictMs: performance.now() - t2,
      },
      bytes: model.bytes ?? 0,
    });
  }

  /** One input as the model takes it, a video as its sampled frames; a failure stays with its input. */
  private decode(
    spec: ModelSpec,
    model: LoadedModel,
    input: EngineInput,
    signal: AbortSignal,
  ): Promise<Decoded> {
    const { maxImagePixels } = this.settings;
    const decoding: Promise<Decoded> =
      input.type === 'video'
        ? decodeVideoFrames(spec, input, model.encodedInputs, signal).then((frames) => ({ frames }))
        : decodeInput(spec, input, maxImagePixels, model.encodedInputs, signal).then((value) => ({ value }));
    return decoding.catch((error: unknown) => ({
      error: asSibylError(error, 'the input could not be decoded'),
    }));
  }

  /**
   * Runs inputs and video frames alike: each sampled frame is one more image for the model, in
   * batches of the model's max_batch_size. A video's outcome is `data.frames` (Clarifai's Frame:
   * frame_info {index, time in ms} and the model's data for that frame), or the error of its first
   * failed frame.
   */
  private async predictWithFrames(
    spec: ModelSpec,
    model: LoadedModel,
    decoded: Decoded[],
    params: InferenceParams,
    signal: AbortSignal,
  ): Promise<Outcome[]> {
    const flat: ({ value: DecodedInput } | { error: SibylError })[] = [];
    const starts = decoded.map((d) => {
      const start = flat.length;
      if ('frames' in d) flat.push(...d.frames.map((f) => ({ value: f.input })));
      else flat.push(d);
      return start;
    });
    if (flat.length === decoded.length) return this.predictDecoded(spec, model, flat, params, signal);
    const size = Math.max(1, spec.batching.max_batch_size);
    const results: Outcome[] = [];
    for (let at = 0; at < flat.length; at += size) {
      // a model unloaded after an unplanned failure, or a caller gone: the rest are not run
      const stopped = signal.aborted
        ? 'every caller of this batch has gone'
        : !this.models.has(versionKey(spec))
          ? 'it failed on an earlier frame and was unloaded'
          : undefined;
      const chunk = flat.slice(at, at + size);
      if (stopped) {
        const error = toWireError(
          asSibylError(new Error(stopped), `model ${spec.id} did not run this frame`),
        );
        results.push(...chunk.map(() => ({ error })));
      } else results.push(...(await this.predictDecoded(spec, model, chunk, params, signal)));
    }
    return decoded.map((d, i): Outcome => {
      const start = starts[i]!;
      if (!('frames' in d)) return results[start]!;
      const mine = results.slice(start, start + d.frames.length);
      const failed = mine.find((o) => 'error' in o);
      if (failed) return failed;
      const done = mine as { data: Data; usage?: TokenUsage }[];
      const frames: Frame[] = d.frames.map((f, j) => ({
        frame_info: { index: f.index, time: f.time },
        data: done[j]!.data,
      }));
      const usage = sumUsage(done);
      return { data: { frames }, ...(usage ? { usage } : {}) };
    });
  }

  /**
   * Runs the decoded inputs as one batch. If the batch fails and holds several inputs, each is
   * retried alone, so one input the model chokes on fails only its own output. A model that threw
   * something it did not mean to (not a SibylError) is unloaded afterwards, to be loaded afresh.
   */
  private async predictDecoded(
    spec: ModelSpec,
    model: LoadedModel,
    decoded: ({ value: DecodedInput } | { error: SibylError })[],
    params: InferenceParams,
    signal: AbortSignal,
  ): Promise<Outcome[]> {
    const predict = predictorOf(spec, model);
    const outcomes = new Array<Outcome>(decoded.length);
    const ready: { i: number; input: DecodedInput }[] = [];
    decoded.forEach((d, i) => {
      if ('error' in d) outcomes[i] = { error: toWireError(d.error) };
      else ready.push({ i, input: d.value });
    });
    let unplanned = false;
    const attempt = async (batch: typeof ready): Promise<unknown> => {
      try {
        const results = await predict(
          batch.map((b) => b.input),
          params,
          signal,
        );
        if (results.length !== batch.length)
          throw new Error(`returned ${results.length} outputs for ${batch.length} inputs`);
        batch.forEach((b, j) => (outcomes[b.i] = results[j]!));
        return undefined;
      } catch (error) {
        if (isFatal(error)) throw error;
        if (!(error instanceof SibylError)) unplanned = true;
        return error;
      }
    };
    const error = ready.length > 0 ? await attempt(ready) : undefined;
    if (error !== undefined) {
      for (const b of ready.length > 1 ? ready : []) {
        const single = await attempt([b]);
        if (single !== undefined)
          outcomes[b.i] = { error: toWireError(asSibylError(single, `model ${spec.id} failed`)) };
      }
      if (ready.length === 1)
        outcomes[ready[0]!.i] = { error: toWireError(asSibylError(error, `model ${spec.id} failed`)) };
    }
    if (unplanned) await this.dropBroken(spec);
    return outcomes;
  }

  /**
   * A model that failed in a way nobody planned for may hold broken state (a wasm heap after an
   * exception, a half-freed tensor): unload it so the next request gets a fresh load.
   */
  private async dropBroken(spec: ModelSpec): Promise<void> {
    await this.unload(versionKey(spec)).catch(() => undefined);
  }
}

/** One input decoded: as the model takes it, as a video's sampled frames, or why it could not be. */
type Decoded = { value: DecodedInput } | { frames: DecodedFrame[] } | { error: SibylError };

/** The tokens of a video's frames together (a multimodal model reads each frame). */
function sumUsage(results: readonly { usage?: TokenUsage }[]): TokenUsage | undefined {
  const counted = results.filter((r) => r.usage);
  if (counted.length === 0) return undefined;
  return {
    promptTokens: counted.reduce((n, r) => n + r.usage!.promptTokens, 0),
    completionTokens: counted.reduce((n, r) => n + r.usage!.completionTokens, 0),
  };
}

type Predictor = (
  batch: DecodedInput[],
  params: InferenceParams,
  signal: AbortSignal,
) => Promise<{ data: Data; usage?: TokenUsage }[]>;

/**
 * How a batch is predicted: a generating model's stream is collected per input (one code path, so
 * a predict and a generate of the same input give the same text and token counts).
 */
function predictorOf(spec: ModelSpec, model: LoadedModel): Predictor {
  const generate = model.generate?.bind(model);
  if (generate) {
    return async (batch, params, signal) => {
      const results: { data: Data; usage?: TokenUsage }[] = [];
      for (const input of batch) results.push(await collect(generate(input, params, signal)));
      return results;
    };
  }
  const predict = model.predict?.bind(model);
  if (!predict) throw new Error(`model ${modelName(spec)} has neither predict nor generate`);
  return async (batch, params, signal) => (await predict(batch, params, signal)).map((data) => ({ data }));
}

/** A whole generation from its pieces: the texts joined, the usage of the last chunk that had one. */
async function collect(chunks: AsyncIterable<GenerateChunk>): Promise<{ data: Data; usage?: TokenUsage }> {
  let text = '';
  let usage: TokenUsage | undefined;
  for await (const chunk of chunks) {
    text += chunk.data.text?.raw ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { data: { text: { raw: text } }, ...(usage ? { usage } : {}) };
}

/** Says what happened in words a caller can act on; the runtime's own text follows for the curious. */
function crashed(model: string, error: unknown): SibylError {
  const text = error instanceof Error ? error.message : String(error);
  const why = /OOM|out of memory|enlarge memory/i.test(text)
    ? 'ran out of memory on this input (its WebAssembly runtime has a fixed heap); try a smaller input'
    : 'crashed';
  return asSibylError(
    new Error(
      `${model} ${why}. Its worker was replaced; later requests load it afresh. (${text.slice(0, 200)})`,
    ),
    'prediction failed',
  );
}

/**
 * WebAssembly traps (out of bounds, unreachable: how an emscripten module reports running out of
 * memory or aborting) leave the module's memory in an unknown state, and a wasm heap never
 * shrinks: only a new worker is trustworthy.
 */
function isFatal(error: unknown): boolean {
  if (error instanceof Error && error.name === 'RuntimeError') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /^(aborted?\(|RuntimeError:)|out of memory|\(OOM\)/i.test(message);
}
