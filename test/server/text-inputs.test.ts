/**
 * Text inputs that are not text, through a real server: bytes sent as a text input must be UTF-8
 * (a byte-order mark is honoured, UTF-16 with one is decoded), anything else is a 400 that says
 * what the bytes look like; raw text that is decoded binary is refused too; text over the model's
 * limit is a 413 naming it. Nothing reaches the model, so nothing gets a confident wrong label.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { StatusCode } from '../../src/core/status.js';
import { inputFromBytes } from '../../src/sdk/inputs.js';
import { startSibyl, type Sibyl } from '../clients/server.js';

const LANGUAGE = '/v2/users/clarifai/apps/main/models/language-identification/outputs';
const FRENCH = "Bonjour tout le monde, je voudrais un café au lait s'il vous plaît.";

interface Answer {
  status: number;
  body: {
    status: { code: number; description: string; details?: string };
    outputs?: { data: { concepts: { id: string; value: number }[] } }[];
  };
}

let sibyl: Sibyl;
let jpeg: Buffer;

before(async () => {
  sibyl = await startSibyl();
  jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } })
    .jpeg()
    .toBuffer();
});
after(() => sibyl.close());

async function predict(text: Record<string, string>): Promise<Answer> {
  const res = await fetch(sibyl.url + LANGUAGE, {
    method: 'POST',
    headers: { authorization: `Key ${sibyl.pat}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ data: { text } }] }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const base64 = (bytes: Uint8Array) => ({ base64: Buffer.from(bytes).toString('base64') });

function utf16(text: string, endian: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = endian === 'le' ? le : Buffer.from(le).swap16();
  const mark = endian === 'le' ? [0xff, 0xfe] : [0xfe, 0xff];
  return bom ? Buffer.concat([Buffer.from(mark), body]) : body;
}

/** A 400 INPUT_INVALID_ARGUMENT whose details match. */
function assertRefused(answer: Answer, details: RegExp): void {
  assert.equal(answer.status, 400, JSON.stringify(answer.body));
  assert.equal(answer.body.status.code, StatusCode.INPUT_INVALID_ARGUMENT);
  assert.match(answer.body.status.details ?? '', details);
}

describe('text inputs that are not text', () => {
  it('refuses a JPEG sent as text, saying it looks like one', async () => {
    assertRefused(
      await predict(base64(jpeg)),
      /inputs\[0\]\.data\.text is not UTF-8 text: it looks like a JPEG image/,
    );
  });

  it('refuses UTF-16 and UTF-32 without a byte-order mark, with advice', async () => {
    assertRefused(
      await predict(base64(utf16(FRENCH, 'le', false))),
      /UTF-16 \(little-endian\).*save it as UTF-8/,
    );
    assertRefused(
      await predict(base64(utf16(FRENCH, 'be', false))),
      /UTF-16 \(big-endian\).*save it as UTF-8/,
    );
    const utf32 = Buffer.alloc(FRENCH.length * 4);
    [...FRENCH].forEach((ch, i) => utf32.writeUInt32LE(ch.codePointAt(0)!, i * 4));
    assertRefused(await predict(base64(utf32)), /UTF-32 \(little-endian\)/);
  });

  it('decodes UTF-16 with a byte-order mark, and drops a UTF-8 one', async () => {
    for (const bytes of [
      utf16(FRENCH, 'le', true),
      utf16(FRENCH, 'be', true),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(FRENCH)]),
    ]) {
      const answer = await predict(base64(bytes));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.outputs![0]!.data.concepts[0]!.id, 'fr');
    }
  });

  it('refuses Latin-1 text and binary bytes, saying which it looks like', async () => {
    assertRefused(
      await predict(base64(Buffer.from('Café crème, très bien', 'latin1'))),
      /Latin-1 or Windows-1252/,
    );
    const random = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 256));
    assertRefused(await predict(base64(random)), /binary data/);
    assertRefused(await predict(base64(Buffer.from('abc\0def'))), /NUL byte at offset 3/);
  });

  it('keeps text that merely starts like a file signature', async () => {
    const answer = await predict({ raw: 'ID3 tags hold the title and artist of an MP3 song in the file.' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.outputs![0]!.data.concepts[0]!.id, 'en');
  });

  it('refuses raw text that is decoded binary or holds NUL', async () => {
    assertRefused(
      await predict({ raw: Buffer.from(jpeg.filter((b) => b !== 0)).toString('utf8') }),
      /data\.text\.raw looks like binary data decoded as text/,
    );
    assertRefused(await predict({ raw: 'hello\u0000world' }), /NUL character/);
  });

  it('refuses text over the model limit with 413, naming it', async () => {
    const answer = await predict({ raw: 'word '.repeat(20_001) });
    assert.equal(answer.status, 413, JSON.stringify(answer.body));
    assert.match(answer.body.status.details ?? '', /100005 characters.*at most 100000 characters/);
  });

  it('the SDK sends text bytes that are not UTF-8 as base64, so the server can name them', () => {
    assert.deepEqual(inputFromBytes(Buffer.from(FRENCH), 'text'), { data: { text: { raw: FRENCH } } });
    assert.deepEqual(inputFromBytes(jpeg, 'text'), { data: { text: { base64: jpeg.toString('base64') } } });
  });
});
