import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { SibylError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { BoundingBox, Concept, Embedding, InferenceParams, Region } from '../../src/core/wire.js';
import { createEngine, findBuiltInModel, type Engine, type ModelSpec } from '../../src/engine/index.js';

// Real face-api weights on real photos: one engine (one load of the networks) for the whole file.
// face-api's demo photos are group photos of women: sample1-3 three each, sample4 four, sample5
// five, sample6 four (counted by eye); astronaut.png is Eileen Collins, smiling.
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const DEMO = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api')),
  '..',
  'demo',
);
const FACES_IN_SAMPLES = [3, 3, 3, 4, 5, 4];

interface FaceData {
  concepts: Concept[];
  embeddings?: Embedding[];
  metadata?: { age?: number };
}
type FaceRegion = Region & { data: FaceData };

const image = (bytes: Uint8Array) => ({ type: 'image' as const, bytes });
const photo = async (name: string) => image(await readFile(new URL(name, PHOTOS)));
const sample = async (n: number) => image(await readFile(path.join(DEMO, `sample${n}.jpg`)));

let engine: Engine;
let detection: ModelSpec;
let embedding: ModelSpec;

before(async () => {
  engine = createEngine({ workers: 1 });
  detection = findBuiltInModel('clarifai', 'main', 'face-detection')!;
  embedding = findBuiltInModel('clarifai', 'main', 'face-embedding')!;
  await Promise.all([engine.load(detection), engine.load(embedding)]);
});

after(() => engine.close());

async function faces(
  model: ModelSpec,
  input: { type: 'image'; bytes: Uint8Array },
  params?: InferenceParams,
): Promise<FaceRegion[]> {
  const [data] = await engine.predict(model, [input], { params });
  return data!.regions as FaceRegion[];
}

const value = (region: FaceRegion, id: string) => region.data.concepts.find((c) => c.id === id)?.value;
const box = (region: Region): BoundingBox => region.region_info.bounding_box;
const vector = (region: FaceRegion) => region.data.embeddings![0]!.vector;
const distance = (a: number[], b: number[]) => Math.hypot(...a.map((x, i) => x - b[i]!));
const EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];

describe('face-detection', () => {
  it('finds the one face in astronaut.png, where it is, smiling, as an adult', async () => {
    const found = await faces(detection, await photo('astronaut.png'));
    assert.equal(found.length, 1);
    const face = found[0]!;
    // Her face is in the upper middle of the 512x512 portrait (measured 0.14, 0.35, 0.34, 0.52).
    const b = box(face);
    assert.ok(b.top_row > 0.05 && b.top_row < 0.25, `top ${b.top_row}`);
    assert.ok(b.bottom_row > 0.25 && b.bottom_row < 0.45, `bottom ${b.bottom_row}`);
    assert.ok(b.left_col > 0.25 && b.left_col < 0.45, `left ${b.left_col}`);
    assert.ok(b.right_col > 0.42 && b.right_col < 0.62, `right ${b.right_col}`);
    assert.ok(value(face, 'face')! > 0.9, `face scored ${value(face, 'face')}`);
    assert.equal(face.value, value(face, 'face'));
    // She was about 42 in this photo; the network says about 32: plausible, not precise.
    const age = face.data.metadata?.age;
    assert.ok(typeof age === 'number' && age > 20 && age < 70, `age ${age}`);
    assert.ok(value(face, 'feminine')! > 0.5, `feminine ${value(face, 'feminine')}`);
    assert.ok(Math.abs(value(face, 'feminine')! + value(face, 'masculine')! - 1) < 1e-6);
    assert.ok(value(face, 'happy')! > 0.9, `happy ${value(face, 'happy')}`);
    const expressions = EXPRESSIONS.map((e) => value(face, e));
    assert.ok(expressions.every((v) => typeof v === 'number' && v >= 0 && v <= 1));
    const total = expressions.reduce((sum: number, v) => sum + v!, 0);
    assert.ok(Math.abs(total - 1) < 1e-3, `expressions sum to ${total}`);
    for (const c of face.data.concepts) assert.equal(c.app_id, 'main');
  });

  it('finds every face in face-api demo photos, each an adult-looking woman', async () => {
    for (const [i, expected] of FACES_IN_SAMPLES.entries()) {
      const found = await faces(detection, await sample(i + 1));
      assert.equal(found.length, expected, `sample${i + 1}.jpg`);
      for (const face of found) {
        const b = box(face);
        assert.ok(0 <= b.top_row && b.top_row < b.bottom_row && b.bottom_row <= 1, JSON.stringify(b));
        assert.ok(0 <= b.left_col && b.left_col < b.right_col && b.right_col <= 1, JSON.stringify(b));
        // faces in group photos: well under half the picture each way
        assert.ok(b.bottom_row - b.top_row < 0.4 && b.right_col - b.left_col < 0.3, JSON.stringify(b));
        const age = face.data.metadata!.age!;
        assert.ok(age > 15 && age < 70, `sample${i + 1}.jpg: age ${age}`);
        assert.ok(value(face, 'feminine')! > 0.5, `sample${i + 1}.jpg: feminine ${value(face, 'feminine')}`);
      }
      const scores = found.map((f) => f.value!);
      assert.deepEqual(
        scores,
        [...scores].sort((a, b) => b - a),
        'best first',
      );
      assert.equal(new Set(found.map((f) => f.id)).size, found.length, 'region ids differ');
    }
  });

  it('finds no face on dogs or a cat', async () => {
    assert.deepEqual(await faces(detection, await photo('dogs.jpg')), []);
    assert.deepEqual(await faces(detection, await photo('chelsea.png')), []);
  });

  it('honours max_faces and min_score', async () => {
    const five = await faces(detection, await sample(5));
    const two = await faces(detection, await sample(5), { max_faces: 2 });
    assert.deepEqual(
      two.map((f) => f.value),
      five.slice(0, 2).map((f) => f.value),
    );
    // sample3's faces score 0.99, 0.97 and 0.55
    const sure = await faces(detection, await sample(3), { min_score: 0.9 });
    assert.equal(sure.length, 2);
    assert.ok(sure.every((f) => f.value! >= 0.9));
  });

  it('refuses a max_faces out of range', async () => {
    await assert.rejects(
      engine.predict(detection, [await photo('astronaut.png')], { params: { max_faces: 0 } }),
      (error: unknown) =>
        error instanceof SibylError &&
        error.code === StatusCode.MODEL_INVALID_ARGUMENT &&
        /max_faces/.test(error.message),
    );
  });
});

describe('face-embedding', () => {
  it('gives each face a 128-d unit vector, in the detector’s box', async () => {
    const astronaut = await photo('astronaut.png');
    const [face] = await faces(embedding, astronaut);
    const [detected] = await faces(detection, astronaut);
    assert.deepEqual(box(face!), box(detected!));
    assert.equal(face!.data.embeddings!.length, 1);
    assert.equal(face!.data.embeddings![0]!.num_dimensions, 128);
    assert.equal(vector(face!).length, 128);
    assert.ok(Math.abs(Math.hypot(...vector(face!)) - 1) < 1e-4);
    assert.ok(value(face!, 'face')! > 0.9);
    for (const [i, expected] of FACES_IN_SAMPLES.entries()) {
      assert.equal((await faces(embedding, await sample(i + 1))).length, expected, `sample${i + 1}.jpg`);
    }
    assert.deepEqual(await faces(embedding, await photo('dogs.jpg')), []);
  });

  it('puts two photos of one face closer than faces of different people', async () => {
    const original = await readFile(new URL('astronaut.png', PHOTOS));
    // Another photo of the same face: mirrored, cropped, enlarged, darker and saved as a JPEG.
    const edited = await sharp(original)
      .flop()
      .extract({ left: 100, top: 0, width: 300, height: 300 })
      .resize(400, 400)
      .modulate({ brightness: 0.7 })
      .jpeg({ quality: 70 })
      .toBuffer();
    const [a] = await faces(embedding, image(original));
    const [b] = await faces(embedding, image(edited));
    const same = distance(vector(a!), vector(b!));
    // Measured: the same face 0.07-0.15 apart under such edits; different people 0.32 and more.
    assert.ok(same < 0.25, `same face ${same}`);

    const others: FaceRegion[] = [];
    for (let n = 1; n <= 6; n += 1) others.push(...(await faces(embedding, await sample(n))));
    const toOthers = others.map((o) => distance(vector(a!), vector(o)));
    assert.ok(Math.min(...toOthers) > 0.35, `nearest other person ${Math.min(...toOthers)}`);
    // The four women in sample4.jpg are four people.
    const group = await faces(embedding, await sample(4));
    for (let i = 0; i < group.length; i += 1)
      for (let j = i + 1; j < group.length; j += 1) {
        const d = distance(vector(group[i]!), vector(group[j]!));
        assert.ok(d > same + 0.1, `sample4 faces ${i} and ${j}: ${d}, same face ${same}`);
      }
  });
});
