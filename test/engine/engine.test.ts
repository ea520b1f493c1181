import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { BusyError, LimitError, SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { MAX_INPUTS_PER_REQUEST } from '../../src/core/wire.js';
import {
  createEngine,
  runtimeKinds,
  findBuiltInModel,
  type Engine,
  type EngineInput,
  type EngineOptions,
  type ModelSpec,
  type StageTiming,
} from '../../src/engine/index.js';

/**
 * The engine's scheduler and worker threads, on the real built-in models: CenterNet (about 0.2 s
 * an image here) as the expensive model and CLD3 (microseconds a text) as the cheap one.
 */
const IMAGE = findBuiltInModel('clarifai', 'main', 'general-image-recognition')!;
const TEXT = findBuiltInModel('clarifai', 'main', 'language-identification')!;
const DOGS = await readFile(new URL('../fixtures/photos/dogs.jpg', import.meta.url));
const dogs: EngineInput = { type: 'image', bytes: DOGS };
const text = (t: string): EngineInput => ({ type: 'text', text: t });

async function withEngine(options: EngineOptions, body: (engine: Engine) => Promise<void>): Promise<void> {
  const engine = createEngine({ warmUp: false, ...options });
  try {
    await body(engine);
  } finally {
    await engine.close();
  }
}

function code(expected: number, pattern?: RegExp) {
  return (error: unknown) =>
    error instanceof SibylError && error.code === expected && (!pattern || pattern.test(error.message));
}

describe('engine', () => {
  it('lists the built-in models as specs, each on a runtime it has', () => {
    const engine = createEngine();
    const listed = engine.builtins().map((m) => `${m.id} ${m.runtime.kind}`);
    for (const expected of [
      'general-image-recognition centernet',
      'general-image-detection centernet',
      'language-identification cld3',
      'face-detection face-api',
      'face-embedding face-api',
      'nsfw-recognition nsfwjs',
      'ocr-english tesseract',
      'voice-activity-detection silero-vad',
      'speech-recognition pocketsphinx',
    ]) {
      assert.ok(listed.includes(expected), `${expected} in ${listed.join(', ')}`);
    }
    for (const spec of engine.builtins()) {
      assert.ok(runtimeKinds().includes(spec.runtime.kind), `${spec.id}: ${spec.runtime.kind}`);
      assert.ok(spec.licence, `${spec.id} states its licence`);
    }
    void engine.close();
  });

  it('runs models in worker threads, loading each once per worker under concurrent predicts', async () => {
    await withEngine({ workers: 1, expressLane: false }, async (engine) => {
      const results = await Promise.all([
        engine.predict(TEXT, [text('The weather is lovely today and we are going out.')]),
        engine.predict(TEXT, [text('Il fait très beau aujourd’hui et nous sortons.')]),
        engine.predict(IMAGE, [dogs]),
      ]);
      assert.deepEqual(
        results.map((r) => r[0]!.concepts![0]!.name),
        ['en', 'fr', 'dog'],
      );
      const status = engine.status();
      assert.equal(status.workers, 1);
      assert.deepEqual(status.loaded.map((m) => `${m.spec.id} x${m.workers}`).sort(), [
        'general-image-recognition x1',
        'language-identification x1',
      ]);
    });
  });

  it('checks params, output_config, inputs and the runtime before any work', async () => {
    await withEngine({ workers: 1 }, async (engine) => {
      assert.throws(
        () => engine.check(TEXT, ['text'], { params: { temperature: 1 } }),
        code(StatusCode.MODEL_INVALID_ARGUMENT, /takes no inference params, got "temperature"/),
      );
      assert.throws(
        () => engine.check(TEXT, ['text'], { outputConfig: { max_concept: 1 } as never }),
        code(StatusCode.MODEL_INVALID_ARGUMENT, /no field "max_concept"/),
      );
      assert.throws(
        () => engine.check(TEXT, ['image']),
        code(StatusCode.INPUT_INVALID_ARGUMENT, /takes text inputs, got image/),
      );
      const alien: ModelSpec = { ...TEXT, runtime: { kind: 'tensorrt' } };
      assert.throws(
        () => engine.check(alien, ['text']),
        /needs runtime "tensorrt", which this engine does not have; it has: centernet, cld3/,
      );
      await assert.rejects(engine.predict(TEXT, []), /no inputs given/);
      const tooMany = Array.from({ length: MAX_INPUTS_PER_REQUEST + 1 }, () => text('a'));
      await assert.rejects(
        engine.predict(TEXT, tooMany),
        (e) => e instanceof LimitError && /limit is 128/.test(e.message),
      );
      assert.equal(engine.status().workers, 0, 'no worker was started for refused work');
    });
  });

  it('gives each input its own outcome: one broken image fails alone', async () => {
    await withEngine({ workers: 1 }, async (engine) => {
      const junk: EngineInput = { type: 'image', bytes: new TextEncoder().encode('not an image at all') };
      const [good, bad] = await engine.predictEach(IMAGE, [dogs, junk]);
      assert.ok(good && !(good instanceof SibylError));
      assert.equal(good.data.concepts![0]!.name, 'dog');
      assert.ok(bad instanceof SibylError);
      assert.equal(bad.code, StatusCode.INPUT_INVALID_ARGUMENT);
      assert.match(bad.message, /not a supported image/);
      await assert.rejects(engine.predict(IMAGE, [dogs, junk]), /not a supported image/);
    });
  });

  it('refuses work past the queue bound with a Retry-After from the work ahead, then accepts again', async () => {
    await withEngine({ workers: 1, maxQueuedInputs: 2 }, async (engine) => {
      await engine.predict(IMAGE, [dogs]); // loaded, and its cost is known
      const running = engine.predict(IMAGE, [dogs]);
      const queued = engine.predict(IMAGE, [dogs, dogs]);
      await assert.rejects(engine.predict(IMAGE, [dogs]), (error: unknown) => {
        assert.ok(error instanceof BusyError);
        assert.equal(error.code, StatusCode.MODEL_BUSY_PLEASE_RETRY);
        assert.ok(error.retryAfterSeconds >= 1);
        assert.match(
          error.message,
          /2 inputs are waiting for model clarifai\/main\/general-image-recognition and this request adds 1; at most 2 may wait/,
        );
        return true;
      });
      // another model has its own queue
      assert.equal(
        (await engine.predict(TEXT, [text('Good morning to all of you here')]))[0]!.concepts![0]!.name,
        'en',
      );
      await Promise.all([running, queued]);
      assert.equal((await engine.predict(IMAGE, [dogs])).length, 1);
    });
  });

  it('drops a request whose caller has gone from the queue', async () => {
    await withEngine({ workers: 1 }, async (engine) => {
      await engine.predict(IMAGE, [dogs]);
      const first = engine.predict(IMAGE, [dogs]);
      const abort = new AbortController();
      const gone = engine.predict(IMAGE, [dogs, dogs, dogs, dogs], { signal: abort.signal });
      assert.equal(engine.status().queued.find((q) => q.key.includes('recognition'))?.inputs, 4);
      abort.abort();
      await assert.rejects(gone, code(StatusCode.TRY_AGAIN, /cancelled/));
      assert.equal(engine.status().queued.find((q) => q.key.includes('recognition'))?.inputs, 0);
      await first;
    });
  });

  it('serves a cheap model next instead of after the queue of an expensive one', async () => {
    await withEngine({ workers: 1, expressLane: false }, async (engine) => {
      await Promise.all([
        engine.predict(IMAGE, [dogs]),
        engine.predict(TEXT, [text('warm up the text model')]),
      ]);
      const finished: string[] = [];
      const images = Array.from({ length: 6 }, (_, i) =>
        engine.predict(IMAGE, [dogs]).then(() => finished.push(`image ${i}`)),
      );
      const lang = engine
        .predict(TEXT, [text('Where is the railway station, please?')])
        .then(() => finished.push('text'));
      await Promise.all([...images, lang]);
      assert.ok(
        finished.indexOf('text') <= 1,
        `text finished after ${finished.indexOf('text')} images: ${finished.join(', ')}`,
      );
      assert.equal(engine.status().express, false);
    });
  });

  it('runs a cheap model on the express lane while every worker is busy with an expensive one', async () => {
    await withEngine({ workers: 1 }, async (engine) => {
      await engine.predict(IMAGE, [dogs]);
      await engine.predict(TEXT, [text('warm up the text model')]); // its cost is now known: cheap
      // the express thread starts (and loads the text model) the first time it is needed
      await Promise.all([
        engine.predict(IMAGE, [dogs]),
        engine.predict(TEXT, [text('warm up the express lane')]),
      ]);
      const finished: string[] = [];
      const images = Array.from({ length: 3 }, (_, i) =>
        engine.predict(IMAGE, [dogs]).then(() => finished.push(`image ${i}`)),
      );
      const lang = engine
        .predict(TEXT, [text('Where is the railway station, please?')])
        .then((r) => finished.push(`text ${r[0]!.concepts![0]!.name}`));
      await Promise.all([...images, lang]);
      assert.equal(finished[0], 'text en', finished.join(', '));
      assert.equal(engine.status().workers, 1);
      assert.equal(engine.status().express, true);
    });
  });

  it('batches inputs of concurrent requests up to max_batch_size, and not when batching is off', async () => {
    for (const batching of [true, false]) {
      const timings: StageTiming[] = [];
      await withEngine({ workers: 1, batching, onTiming: (t) => timings.push(t) }, async (engine) => {
        await engine.predict(IMAGE, [dogs]); // keeps the one worker busy while the texts arrive
        const busy = engine.predict(IMAGE, [dogs]);
        const texts = Array.from({ length: 10 }, (_, i) =>
          engine.predict(TEXT, [text(`This is sentence number ${i} in English.`)]),
        );
        const results = await Promise.all(texts);
        await busy;
        assert.ok(results.every((r) => r[0]!.concepts![0]!.name === 'en'));
        const sizes = timings
          .filter((t) => t.stage === 'predict' && t.model.endsWith('language-identification'))
          .map((t) => t.inputs);
        if (batching) assert.ok(Math.max(...sizes) > 1, `batch sizes ${sizes.join(',')}`);
        else assert.deepEqual(sizes, Array(10).fill(1));
      });
    }
  });

  it('refuses a text past its limit; without one, CLD3 still reads only the first bytes of a huge text', async () => {
    await withEngine({ workers: 1 }, async (engine) => {
      // 21 MB: once enough to abort CLD3's fixed 16 MiB wasm heap
      const huge = text(
        "Il fait très beau aujourd'hui à Paris, et nous allons nous promener le long de la Seine. ".repeat(
          240_000,
        ),
      );
      await assert.rejects(engine.predict(TEXT, [huge]), (error: unknown) => {
        assert.ok(error instanceof LimitError);
        assert.match(error.message, /the text is \d{8} characters; .* at most 100000 characters/);
        return true;
      });
      const { limits: _limits, ...unlimited } = TEXT;
      const [big] = await engine.predict({ ...unlimited, versionId: 'unlimited' }, [huge]);
      assert.equal(big!.concepts![0]!.name, 'fr');
      const [data] = await engine.predict(TEXT, [text('Good evening, and welcome to the show')]);
      assert.equal(data!.concepts![0]!.name, 'en');
    });
  });

  it('unloads idle models and loads them again on demand', async () => {
    await withEngine({ workers: 1, idleUnloadMs: 150 }, async (engine) => {
      await engine.predict(TEXT, [text('Good evening, and welcome to the show')]);
      assert.equal(engine.status().loaded.length, 1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(engine.status().loaded.length, 0);
      assert.equal(
        (await engine.predict(TEXT, [text('Good evening, and welcome to the show')]))[0]!.concepts![0]!.name,
        'en',
      );
    });
  });

  it('keeps loaded models within the memory budget, unloading the least recently used', async () => {
    // CenterNet counts 64 MiB and CLD3 16 MiB: a 70 MiB budget holds one or the other
    await withEngine({ workers: 1, memoryBudgetBytes: 70 * 1024 * 1024 }, async (engine) => {
      await engine.predict(IMAGE, [dogs]);
      await engine.predict(TEXT, [text('What time does the museum open?')]);
      await engine.predict(TEXT, [text('What time does the museum open?')]);
      assert.deepEqual(
        engine.status().loaded.map((m) => m.spec.id),
        ['language-identification'],
      );
      assert.equal((await engine.predict(IMAGE, [dogs]))[0]!.concepts![0]!.name, 'dog');
    });
  });

  it('fails waiting work with TRY_AGAIN when closed', async () => {
    const engine = createEngine({ workers: 1, warmUp: false });
    await engine.predict(IMAGE, [dogs]);
    const running = assert.rejects(engine.predict(IMAGE, [dogs]), /shutting down/);
    const waiting = assert.rejects(
      engine.predict(IMAGE, [dogs]),
      code(StatusCode.TRY_AGAIN, /shutting down/),
    );
    await engine.close();
    await Promise.all([running, waiting]);
    await assert.rejects(engine.predict(IMAGE, [dogs]), /shutting down/);
  });
});
