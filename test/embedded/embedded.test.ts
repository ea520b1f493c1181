import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EmbeddedTransport } from '../../src/embedded/index.js';
import { ApiError, Model } from '../../src/sdk/index.js';
import { PHOTOS, RECOGNITION_URL } from '../helpers/cli.js';

describe('the SDK on the embedded transport (server app in-process, no port)', () => {
  let transport: EmbeddedTransport;
  before(async () => {
    transport = await EmbeddedTransport.open({ dataDir: mkdtempSync(join(tmpdir(), 'sibyl-emb-')) });
  });
  after(() => transport.close());

  const model = (url = RECOGNITION_URL) => new Model({ url, transport });

  it('acts as the data directory admin', async () => {
    assert.equal(transport.userId, 'admin');
    assert.equal((await model().client.getMe()).user.id, 'admin');
  });

  it('predictByFilepath finds the dog in a real photo', async () => {
    const outputs = await model().predictByFilepath({
      filepath: join(PHOTOS, 'dogs.jpg'),
      inputType: 'image',
      outputConfig: { max_concepts: 3 },
    });
    const concepts = outputs[0]!.data.concepts!;
    assert.equal(concepts[0]!.name, 'dog');
    assert.ok(concepts.length <= 3);
  });

  it('predict takes a batch and answers in order', async () => {
    const { readFile } = await import('node:fs/promises');
    const inputs = await Promise.all(
      ['dogs.jpg', 'chelsea.png', 'astronaut.png'].map(async (f) => ({
        data: { image: { base64: (await readFile(join(PHOTOS, f))).toString('base64') } },
      })),
    );
    const outputs = await model().predict({ inputs });
    assert.deepEqual(
      outputs.map((o) => o.data.concepts![0]!.name),
      ['dog', 'cat', 'person'],
    );
  });

  it('predictByBytes identifies a language', async () => {
    const lang = model('https://clarifai.com/clarifai/main/models/language-identification');
    const outputs = await lang.predictByBytes({
      inputBytes: Buffer.from('Das ist ein kleiner Hund, der im Garten spielt.'),
      inputType: 'text',
    });
    assert.equal(outputs[0]!.data.concepts![0]!.name, 'de');
  });

  it('a missing model is an ApiError with code, description and req_id', async () => {
    await assert.rejects(
      model('https://clarifai.com/anthropic/completion/models/claude-v2').predictByBytes({
        inputBytes: 'hi',
        inputType: 'text',
      }),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.code, 21200);
        assert.equal(err.httpStatus, 404);
        assert.match(err.reqId ?? '', /^[0-9a-f]{32}$/);
        return true;
      },
    );
  });
});
