import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inputTypeFromName, inputTypeOfModelType, sniffInputType } from '../../src/core/media-types.js';
import { PHOTOS } from '../helpers/cli.js';

describe('sniffInputType', () => {
  it('recognises real photos by their bytes', () => {
    for (const f of ['dogs.jpg', 'puppy.jpg', 'astronaut.png', 'chelsea.png']) {
      assert.equal(sniffInputType(readFileSync(join(PHOTOS, f))), 'image', f);
    }
  });

  it('does not take text that starts like a signature for an image', () => {
    for (const text of ['BMW is a car maker', 'xPNG files are images', 'GIF8 is not a gif', 'hello']) {
      assert.equal(sniffInputType(Buffer.from(text)), 'text', text);
    }
  });

  it('knows audio and video containers and refuses binary junk', () => {
    assert.equal(sniffInputType(Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1')), 'audio');
    assert.equal(sniffInputType(Buffer.from('\0\0\0\x20ftypisom', 'latin1')), 'video');
    assert.equal(sniffInputType(Buffer.from([0, 1, 2, 3, 0, 0xff, 0xfe])), undefined);
  });
});

describe('input types by name and model type', () => {
  it('maps extensions and model types', () => {
    assert.equal(inputTypeFromName('https://samples.clarifai.com/dog2.jpeg?x=1'), 'image');
    assert.equal(inputTypeFromName('record_out+(3).wav'), 'audio');
    assert.equal(inputTypeFromName('prompt'), undefined);
    assert.equal(inputTypeOfModelType('visual-detector'), 'image');
    assert.equal(inputTypeOfModelType('text-to-text'), 'text');
    assert.equal(inputTypeOfModelType('multimodal-to-text'), undefined);
  });
});
