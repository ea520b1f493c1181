import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SibylError } from '../../src/core/errors.js';
import { modelUrl, parseModelUrl } from '../../src/core/urls.js';

describe('parseModelUrl', () => {
  it('reads user, app and model from a Clarifai model URL', () => {
    assert.deepEqual(parseModelUrl('https://clarifai.com/clarifai/main/models/general-image-recognition'), {
      userId: 'clarifai',
      appId: 'main',
      modelId: 'general-image-recognition',
    });
  });

  it('reads a version and tolerates a trailing slash', () => {
    assert.deepEqual(
      parseModelUrl('https://clarifai.com/openai/whisper/models/whisper-large-v2/versions/abc123/'),
      {
        userId: 'openai',
        appId: 'whisper',
        modelId: 'whisper-large-v2',
        versionId: 'abc123',
      },
    );
    assert.equal(parseModelUrl('https://clarifai.com/a/b/models/c/').modelId, 'c');
  });

  it('accepts any host, since the host does not pick the server', () => {
    assert.equal(parseModelUrl('http://localhost:8080/u/a/models/m').userId, 'u');
  });

  for (const bad of [
    'not a url',
    'ftp://clarifai.com/a/b/models/c',
    'https://clarifai.com/a/b/c',
    'https://clarifai.com/a/b/models',
    'https://clarifai.com/a/b/models/c/versions',
    'https://clarifai.com/a/b/models/c/versions/v/extra',
    'https://clarifai.com/a/b/models/c/other/v',
    'https://clarifai.com/%ZZ/main/models/x',
  ]) {
    it(`refuses ${JSON.stringify(bad)} with the expected shape in the message`, () => {
      assert.throws(
        () => parseModelUrl(bad),
        (err: unknown) =>
          err instanceof SibylError && /models\/<model_id>/.test(err.message) && err.message.includes(bad),
      );
    });
  }

  it('round-trips through modelUrl', () => {
    const ref = { userId: 'u', appId: 'a', modelId: 'm', versionId: 'v' };
    assert.deepEqual(parseModelUrl(modelUrl(ref)), ref);
  });
});
