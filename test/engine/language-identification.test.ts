import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, LimitError } from '../../src/core/errors.js';
import { StatusCode } from '../../src/core/status.js';
import type { Concept } from '../../src/core/wire.js';
import { createEngine, findBuiltInModel, type Engine, type ModelSpec } from '../../src/engine/index.js';

let engine: Engine;
let model: ModelSpec;

before(async () => {
  engine = createEngine();
  model = findBuiltInModel('clarifai', 'main', 'language-identification')!;
  await engine.load(model);
});

after(() => engine.close());

async function identify(text: string, outputConfig?: object): Promise<Concept[]> {
  const [data] = await engine.predict(model, [{ type: 'text', text }], { outputConfig });
  return data!.concepts!;
}

describe('language-identification', () => {
  it('is a text classifier', () => {
    assert.equal(model.modelTypeId, 'text-classifier');
    assert.equal(model.inputType, 'text');
    assert.ok(model.concepts?.includes('en') && model.concepts.includes('zh-Latn'));
  });

  it('tells English, French and German apart', async () => {
    const cases: [string, string][] = [
      ['The quick brown fox jumps over the lazy dog near the river bank.', 'en'],
      ["Bonjour, je voudrais un café au lait s'il vous plaît, et un croissant.", 'fr'],
      ['Das ist ein kleiner Hund, der gerne im Garten spielt und Bälle jagt.', 'de'],
    ];
    for (const [text, code] of cases) {
      const [top] = await identify(text);
      assert.deepEqual(
        { id: top!.id, name: top!.name, app_id: top!.app_id },
        { id: code, name: code, app_id: 'main' },
      );
      assert.ok(top!.value > 0.9 && top!.value <= 1, `${code}: ${top!.value}`);
    }
  });

  it('gives each language of a mixed text its share', async () => {
    const concepts = await identify(
      '東京は日本の首都で、とても大きな都市です。 This sentence, on the other hand, is written in English.',
    );
    assert.deepEqual(concepts.map((c) => c.id).sort(), ['en', 'ja']);
    const total = concepts.reduce((sum, c) => sum + c.value, 0);
    assert.ok(total <= 1.0001, `values sum to ${total}`);
  });

  it('answers "und" for text without letters', async () => {
    assert.deepEqual(
      (await identify('12345 !!!')).map((c) => c.id),
      ['und'],
    );
  });

  it('says "und" first for a word too short to tell, not a confident wrong language', async () => {
    for (const word of ['Hi', 'hello', 'ok']) {
      const [top, ...rest] = await identify(word);
      assert.equal(top!.id, 'und', `${word}: ${JSON.stringify([top, ...rest])}`);
      assert.ok(
        rest.every((c) => c.value < 0.3),
        `${word}: ${JSON.stringify(rest)}`,
      );
    }
  });

  it('answers "und" where CLD3 is left with nothing to judge (its "ja" 0.78)', async () => {
    // repetition is squeezed away, and a JPEG decoded as text is mostly replacement characters
    const jpegAsText = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x9c, 0xe3])
      .toString('utf8')
      .repeat(20);
    for (const text of ['Bonjour le monde. '.repeat(50), 'hello hello hello hello hello hello', jpegAsText]) {
      assert.deepEqual(
        (await identify(text)).map((c) => c.id),
        ['und'],
        JSON.stringify(text.slice(0, 40)),
      );
    }
  });

  it('still names the language of a short sentence', async () => {
    const [top] = await identify('The weather is lovely today');
    assert.equal(top!.id, 'en');
  });

  it('refuses a text over its limit, naming it', async () => {
    await assert.rejects(
      engine.predict(model, [{ type: 'text', text: 'a'.repeat(100_001) }]),
      (error: unknown) =>
        error instanceof LimitError && /100001 characters.*at most 100000/.test(error.message),
    );
  });

  it('refuses empty and blank text', async () => {
    for (const text of ['', '   \n\t']) {
      await assert.rejects(
        engine.predict(model, [{ type: 'text', text }]),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.code === StatusCode.INPUT_INVALID_ARGUMENT &&
          /needs some text/.test(error.message),
      );
    }
  });

  it('refuses images, naming both types', async () => {
    await assert.rejects(
      engine.predict(model, [{ type: 'image', bytes: new Uint8Array(4) }]),
      /model language-identification takes text inputs, got image/,
    );
  });

  it('answers a batch in order and applies output_config', async () => {
    const out = await engine.predict(
      model,
      [
        { type: 'text', text: 'Where is the railway station, please?' },
        { type: 'text', text: "Où est la gare, s'il vous plaît ?" },
      ],
      { outputConfig: { select_concepts: [{ id: 'fr' }] } },
    );
    assert.deepEqual(
      out.map((d) => d.concepts!.map((c) => c.id)),
      [[], ['fr']],
    );
  });
});
