import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import { listFolderFiles, readFolderVisibility, readModelFolder } from '../../src/engine/folder.js';
import { findRuntime } from '../../src/engine/runtimes/index.js';
import {
  brokenFolder,
  onnxClassifierFolder,
  onnxDetectorFolder,
  onnxTextEmbedderFolder,
  RGB,
  solidPng,
  type BrokenKind,
} from '../helpers/model-folders.js';
import { createEngine } from '../../src/engine/index.js';

let root: string;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'sibyl-folder-'));
});
after(() => rm(root, { recursive: true, force: true }));

function refusedWith(reason: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof SibylError, String(error));
    assert.equal(error.code, StatusCode.MODEL_INVALID_ARGUMENT);
    assert.match(error.message, reason);
    return true;
  };
}

describe('readModelFolder', () => {
  it('reads config.yaml and labels into a spec for the given version', async () => {
    const dir = await onnxClassifierFolder(path.join(root, 'classifier'), {
      model: { visibility: 'public', name: 'Colours' },
      batching: { max_batch_size: 8, max_wait_ms: 5 },
    });
    const spec = await readModelFolder(dir, 'version-1');
    assert.equal(spec.versionId, 'version-1');
    assert.deepEqual(
      [spec.userId, spec.appId, spec.id, spec.name, spec.modelTypeId, spec.inputType],
      ['sibyl-tests', 'models', 'colour-classifier', 'Colours', 'visual-classifier', 'image'],
    );
    assert.equal(spec.description, 'Names the main colour');
    assert.deepEqual(spec.concepts, ['red', 'green', 'blue']);
    assert.equal(spec.imageSize, 32);
    assert.equal(spec.folder, dir);
    assert.equal(spec.runtime.kind, 'onnx');
    assert.deepEqual(spec.batching, { max_batch_size: 8, max_wait_ms: 5 });
    assert.deepEqual(spec.params, {});
    assert.equal(await readFolderVisibility(dir), 'public');
    // a spec is plain data: it survives JSON (the store) and structured clone (worker threads)
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });

  it('visibility is private unless the config says public; batching defaults to none', async () => {
    const dir = await onnxClassifierFolder(path.join(root, 'private'), { model: { visibility: undefined } });
    assert.equal(await readFolderVisibility(dir), 'private');
    assert.deepEqual((await readModelFolder(dir, 'v')).batching, { max_batch_size: 1, max_wait_ms: 0 });
  });

  it("params: the task's, with config values as defaults, plus new ones typed by value or declared", async () => {
    const dir = await onnxDetectorFolder(path.join(root, 'params'), {
      params: {
        min_score: 0.25,
        temperature: 1,
        greeting: 'hi',
        top_k: { type: 'integer', default: 40, min: 1, max: 100, description: 'How many' },
      },
    });
    const { params } = await readModelFolder(dir, 'v');
    assert.equal(params.min_score!.default, 0.25);
    assert.equal(params.min_score!.type, 'number');
    assert.equal(params.iou_threshold!.default, 0.5);
    assert.equal(params.max_detections!.default, 100);
    assert.deepEqual(params.temperature, {
      type: 'number',
      description: "Set in the model's config.yaml.",
      default: 1,
    });
    assert.equal(params.greeting!.type, 'string');
    assert.deepEqual(params.top_k, {
      type: 'integer',
      description: 'How many',
      min: 1,
      max: 100,
      default: 40,
    });
  });

  it('refuses a param default the task does not allow', async () => {
    const dir = await onnxDetectorFolder(path.join(root, 'bad-param'), { params: { min_score: 2 } });
    await assert.rejects(
      readModelFolder(dir, 'v'),
      refusedWith(/config\.yaml params\.min_score must be a number from 0 to 1, got 2/),
    );
  });

  it('a text embedder takes text', async () => {
    const spec = await readModelFolder(await onnxTextEmbedderFolder(path.join(root, 'text')), 'v');
    assert.equal(spec.inputType, 'text');
    assert.equal(spec.imageSize, undefined);
  });

  it('limits: the engine refuses past each one, naming it, before the model runs', async () => {
    const textSpec = await readModelFolder(
      await onnxTextEmbedderFolder(path.join(root, 'limited-text'), { limits: { max_text_chars: 12 } }),
      'v',
    );
    const imageSpec = await readModelFolder(
      await onnxClassifierFolder(path.join(root, 'limited-image'), {
        limits: { max_pixels: 1000, max_video_seconds: 2.5 },
      }),
      'v',
    );
    assert.deepEqual(textSpec.limits, { maxTextChars: 12 });
    assert.deepEqual(imageSpec.limits, { maxPixels: 1000, maxVideoSeconds: 2.5 });
    const engine = createEngine({ workers: 1, warmUp: false });
    try {
      const overLimit = (limit: RegExp) => (err: unknown) =>
        err instanceof SibylError && err.code === StatusCode.INPUT_OVER_LIMIT && limit.test(err.message);
      await assert.rejects(
        engine.predict(textSpec, [{ type: 'text', text: 'red green blue red' }]),
        overLimit(/18 characters; model .* accepts at most 12 characters \(its input limit maxTextChars\)/),
      );
      // 64 x 48 = 3,072 pixels, past the folder's 1,000
      await assert.rejects(
        engine.predict(imageSpec, [{ type: 'image', bytes: await solidPng(RGB.red) }]),
        overLimit(/1000|1,000/),
      );
      // within the limits both still answer
      const [embedded] = await engine.predict(textSpec, [{ type: 'text', text: 'red green' }]);
      assert.ok(embedded!.embeddings?.[0]?.vector.length);
      const [small] = await engine.predict(imageSpec, [
        { type: 'image', bytes: await solidPng(RGB.red, 20, 20) },
      ]);
      assert.equal(small!.concepts?.[0]?.name, 'red');
    } finally {
      await engine.close();
    }
  });

  const mistakes: [string, string, RegExp][] = [
    ['not yaml', 'model: [unclosed', /config\.yaml is not valid YAML/],
    [
      'no runtime',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}',
      /has no runtime: block/,
    ],
    [
      'a bad id',
      'model: {id: "a b", user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx}',
      /config\.yaml model\.id must be an id: letters, digits.*got "a b"/,
    ],
    [
      'an unknown top-level key',
      'modle: {}\nmodel: {id: a}\nruntime: {kind: onnx}',
      /unknown key modle; allowed in the file: model, runtime, batching, params, limits/,
    ],
    [
      'an unknown limit',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx}\nlimits: {max_chars: 10}',
      /unknown key limits\.max_chars.*max_text_chars, max_pixels, max_audio_seconds, max_video_seconds/,
    ],
    [
      'a limit that is not a positive count',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx}\nlimits: {max_pixels: 0.5}',
      /limits\.max_pixels must be an integer >= 1, got 0\.5/,
    ],
    [
      'batching too large',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx}\nbatching: {max_batch_size: 1000}',
      /batching\.max_batch_size must be an integer from 1 to 128, got 1000/,
    ],
    [
      'a bad preprocess size',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx, preprocess: {size: 224}}',
      /runtime\.preprocess\.size must be \[height, width\], two integers from 1 to 4096, got 224/,
    ],
    [
      'a bad preprocess layout',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx, preprocess: {size: [2, 2], layout: nhcw}}',
      /runtime\.preprocess\.layout must be one of nchw, nhwc, got "nhcw"/,
    ],
    [
      'a file outside the folder',
      'model: {id: a, user_id: u, app_id: p, model_type_id: visual-classifier}\nruntime: {kind: onnx, file: ../model.onnx}',
      /runtime\.file must be a path inside the model folder, got "\.\.\/model\.onnx"/,
    ],
    [
      'an unknown input type',
      'model: {id: a, user_id: u, app_id: p, model_type_id: my-thing}\nruntime: {kind: onnx}',
      /does not say what it takes; set model\.input_type to one of text, image, video, audio/,
    ],
  ];
  for (const [what, yaml, reason] of mistakes) {
    it(`refuses ${what}, saying what is allowed`, async () => {
      const dir = path.join(root, what.replaceAll(' ', '-'));
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'config.yaml'), yaml);
      await assert.rejects(readModelFolder(dir, 'v'), refusedWith(reason));
    });
  }

  it('refuses a folder without config.yaml', async () => {
    const dir = path.join(root, 'empty');
    await mkdir(dir);
    await assert.rejects(readModelFolder(dir, 'v'), refusedWith(/has no readable config\.yaml/));
  });
});

describe('broken folders are refused with their reason', () => {
  const kinds: BrokenKind[] = [
    'missing-weights',
    'corrupt-weights',
    'wrong-input-size',
    'wrong-layout',
    'labels-mismatch',
    'unknown-config-key',
    'unknown-runtime-key',
    'bad-kind',
    'missing-vocab',
  ];
  for (const kind of kinds) {
    it(kind, async () => {
      const broken = await brokenFolder(path.join(root, `broken-${kind}`), kind);
      if (broken.stage === 'read') {
        await assert.rejects(readModelFolder(broken.dir, 'v'), refusedWith(broken.reason));
        return;
      }
      const spec = await readModelFolder(broken.dir, 'v');
      const runtime = await findRuntime(spec.runtime.kind)!();
      await assert.rejects(runtime.validate!(spec), refusedWith(broken.reason));
    });
  }
});

describe('listFolderFiles', () => {
  it('lists regular files (links inside the folder too), skipping dotfiles', async () => {
    const dir = await onnxClassifierFolder(path.join(root, 'listing'));
    await mkdir(path.join(dir, 'extra/.cache'), { recursive: true });
    await writeFile(path.join(dir, 'extra/notes.md'), 'x');
    await writeFile(path.join(dir, 'extra/.cache/blob'), 'x');
    await writeFile(path.join(dir, '.DS_Store'), 'x');
    await symlink('labels.txt', path.join(dir, 'labels-link.txt'));
    assert.deepEqual(await listFolderFiles(dir), [
      'config.yaml',
      'extra/notes.md',
      'labels-link.txt',
      'labels.txt',
      'model.onnx',
    ]);
  });

  it('refuses a link that leads out of the folder', async () => {
    const dir = await onnxClassifierFolder(path.join(root, 'escape'));
    await writeFile(path.join(root, 'secret.txt'), 'x');
    await symlink(path.join(root, 'secret.txt'), path.join(dir, 'weights.bin'));
    await assert.rejects(
      listFolderFiles(dir),
      refusedWith(/weights\.bin in .* is a link to .*secret\.txt, outside the folder/),
    );
  });
});
