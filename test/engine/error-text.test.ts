import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PredictionError } from '../../src/core/errors.js';
import { asSibylError, clientSafe, fromWireError, toWireError } from '../../src/engine/worker/errors.js';

describe('library error text as clients see it', () => {
  it("drops an emscripten abort's stack and every install path", () => {
    const abort =
      'abort(Cannot enlarge memory arrays to size 18001920 bytes (OOM).) at Error\n' +
      '    at jsStackTrace (/work/main/node_modules/cld3-asm/dist/cjs/lib/node/cld3.js:8:20)\n    at abort';
    assert.equal(clientSafe(abort), 'abort(Cannot enlarge memory arrays to size 18001920 bytes (OOM).)');
    assert.equal(
      clientSafe(
        'tesseract: no eng.traineddata.gz in /usr/lib/node_modules/@tesseract.js-data/eng/4.0.0_best_int',
      ),
      'tesseract: no eng.traineddata.gz in 4.0.0_best_int',
    );
    assert.equal(
      clientSafe("ENOENT: no such file or directory, open '/home/me/.cache/x/model.onnx'"),
      "ENOENT: no such file or directory, open 'model.onnx'",
    );
    assert.equal(
      clientSafe('Cannot find module node_modules/sharp/lib/index.js'),
      'Cannot find module index.js',
    );
    assert.equal(
      clientSafe('TypeError: x is undefined\n    at f (file:///work/a.ts:1:2)'),
      'TypeError: x is undefined',
    );
  });

  it('leaves model names, URLs, ratios and prose alone, and cuts long text', () => {
    for (const text of [
      'model clarifai/main/language-identification failed at offset 5 (of 10)',
      'see https://example.com/a/b for help',
      'image is 10x10; ratio 1/2 and/or 3/4',
    ]) {
      assert.equal(clientSafe(text), text);
    }
    assert.equal(clientSafe('x'.repeat(2000)).length, 500);
  });

  it('is applied to unplanned errors and to every error crossing from a worker', () => {
    const unplanned = asSibylError(
      new Error('bad thing at /opt/lib/x.so\n    at g (/opt/a.js:1:1)'),
      'model m failed',
    );
    assert.ok(unplanned instanceof PredictionError);
    assert.equal(unplanned.details, 'model m failed: bad thing at x.so');
    const crossed = fromWireError(toWireError(new PredictionError('read /srv/models/v1/model.onnx')));
    assert.equal(crossed.details, 'read model.onnx');
  });
});
