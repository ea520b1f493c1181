import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, LimitError, PredictionError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { MAX_INPUTS_PER_REQUEST } from '../../src/core/wire.js';
import { createEngine, type LoadedModel, type ModelDefinition } from '../../src/engine/index.js';

/**
 * The engine's own lifecycle (load once, retry a failed load, wrap failures) on a small real
 * model: it counts characters. The built-in models are tested with real weights elsewhere.
 */
function lengthModel(options: { id?: string; loadImpl?: () => Promise<LoadedModel> } = {}) {
  let loads = 0;
  let unloads = 0;
  const loaded: LoadedModel = {
    predict: (batch, params) =>
      Promise.resolve(
        batch.map((input) => {
          if (input.type !== 'text') throw new Error('text only');
          if (input.text === 'boom') throw new TypeError('kaboom');
          const scale = params.scale as number;
          return {
            concepts: [
              { id: 'length', name: 'length', value: Math.min(1, (input.text.length * scale) / 100) },
            ],
          };
        }),
      ),
    unload: () => {
      unloads += 1;
      return Promise.resolve();
    },
  };
  const def: ModelDefinition = {
    id: options.id ?? 'text-length',
    userId: 'test',
    appId: 'demo',
    versionId: '0123456789abcdef0123456789abcdef',
    name: 'Text length',
    modelTypeId: 'text-classifier',
    description: 'Values a text by its length.',
    inputType: 'text',
    params: { scale: { type: 'number', description: 'multiplier', default: 1, min: 0 } },
    load: () => {
      loads += 1;
      return options.loadImpl ? options.loadImpl() : Promise.resolve(loaded);
    },
  };
  return { def, counts: () => ({ loads, unloads }) };
}

const text = (t: string) => ({ type: 'text' as const, text: t });

describe('engine', () => {
  it('lists and finds the built-in models', () => {
    const engine = createEngine();
    const ids = engine.models().map((m) => m.id);
    assert.deepEqual(ids, [
      'general-image-recognition',
      'general-image-detection',
      'language-identification',
    ]);
    assert.equal(engine.find('clarifai', 'main', 'general-image-detection')?.modelTypeId, 'visual-detector');
    assert.equal(engine.find('clarifai', 'other', 'general-image-detection'), undefined);
    assert.equal(engine.find('clarifai', 'main', 'toString'), undefined);
  });

  it('loads a model once, even under concurrent predicts, and unloads it on close', async () => {
    const { def, counts } = lengthModel();
    const engine = createEngine();
    const results = await Promise.all([1, 2, 3].map((n) => engine.predict(def, [text('x'.repeat(n * 10))])));
    assert.deepEqual(
      results.map((r) => r[0]!.concepts![0]!.value),
      [0.1, 0.2, 0.3],
    );
    assert.deepEqual(counts(), { loads: 1, unloads: 0 });
    await engine.close();
    assert.deepEqual(counts(), { loads: 1, unloads: 1 });
    await engine.predict(def, [text('again')]);
    assert.deepEqual(counts(), { loads: 2, unloads: 1 });
    await engine.close();
  });

  it('refuses work past maxPendingInputs with MODEL_BUSY_PLEASE_RETRY, then accepts it again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { def } = lengthModel({
      loadImpl: async () => {
        await gate;
        return lengthModel().def.load();
      },
    });
    const engine = createEngine({ maxPendingInputs: 3 });
    const first = engine.predict(def, [text('a'), text('b')]);
    await assert.rejects(
      engine.predict(def, [text('c'), text('d')]),
      (err: unknown) =>
        err instanceof LimitError &&
        err.code === StatusCode.MODEL_BUSY_PLEASE_RETRY &&
        /2 inputs are waiting and this request adds 2; the engine queues at most 3/.test(err.message),
    );
    release();
    assert.equal((await first).length, 2);
    assert.equal((await engine.predict(def, [text('c'), text('d'), text('e')])).length, 3);
    await engine.close();
  });

  it('passes validated params with defaults to the model', async () => {
    const { def } = lengthModel();
    const engine = createEngine();
    const [scaled] = await engine.predict(def, [text('x'.repeat(10))], { params: { scale: 2 } });
    assert.equal(scaled!.concepts![0]!.value, 0.2);
    await assert.rejects(
      engine.predict(def, [text('x')], { params: { scale: -1 } }),
      (error: unknown) => error instanceof SibylError && error.code === StatusCode.MODEL_INVALID_ARGUMENT,
    );
    await engine.close();
  });

  it('retries a load that failed, and reports it as a prediction failure', async () => {
    let attempt = 0;
    const working = lengthModel().def;
    const { def, counts } = lengthModel({
      loadImpl: () => (++attempt === 1 ? Promise.reject(new Error('disk on fire')) : working.load()),
    });
    const engine = createEngine();
    await assert.rejects(
      engine.predict(def, [text('hello')]),
      (error: unknown) =>
        error instanceof PredictionError &&
        /text-length could not be loaded: disk on fire/.test(error.message),
    );
    const [data] = await engine.predict(def, [text('hello')]);
    assert.equal(data!.concepts![0]!.value, 0.05);
    assert.equal(counts().loads, 2);
    await engine.close();
  });

  it('wraps unexpected model failures in PredictionError and passes its own errors through', async () => {
    const { def } = lengthModel();
    const engine = createEngine();
    await assert.rejects(
      engine.predict(def, [text('boom')]),
      (error: unknown) =>
        error instanceof PredictionError &&
        error.code === StatusCode.MODEL_PREDICTION_FAILED &&
        /model text-length failed: kaboom/.test(error.message) &&
        error.cause instanceof TypeError,
    );
    // A different id: the engine keeps one loaded model per user/app/model/version.
    const picky = lengthModel({
      id: 'picky',
      loadImpl: () =>
        Promise.resolve({
          predict: () =>
            Promise.reject(new InvalidArgumentError('too short', StatusCode.INPUT_INVALID_ARGUMENT)),
          unload: () => Promise.resolve(),
        }),
    }).def;
    await assert.rejects(
      engine.predict(picky, [text('a')]),
      (error: unknown) => error instanceof InvalidArgumentError,
    );
    await engine.close();
  });

  it('refuses empty and oversized batches', async () => {
    const { def, counts } = lengthModel();
    const engine = createEngine();
    await assert.rejects(engine.predict(def, []), /no inputs given/);
    await assert.rejects(
      engine.predict(
        def,
        Array.from({ length: MAX_INPUTS_PER_REQUEST + 1 }, () => text('a')),
      ),
      (error: unknown) =>
        error instanceof LimitError && /129 inputs in one request; the limit is 128/.test(error.message),
    );
    assert.equal(counts().loads, 0, 'nothing loaded for a refused request');
  });

  it('names the offending input in a mixed batch', async () => {
    const { def } = lengthModel();
    const engine = createEngine();
    await assert.rejects(
      engine.predict(def, [text('a'), { type: 'audio', bytes: new Uint8Array(1) }]),
      /model text-length takes text inputs, got audio \(input 1\)/,
    );
  });
});
