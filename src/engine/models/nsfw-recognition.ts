import { NSFW_CLASSES, NSFW_INPUT_SIZE } from '../runtimes/nsfwjs.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../media/image-limits.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

const LIMITS: InputLimits = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS };

export const nsfwRecognition: ModelSpec = {
  id: 'nsfw-recognition',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: 'ff127b2f24930f4cbd7d25e6516f4f55',
  name: 'NSFW recognition',
  modelTypeId: 'visual-classifier',
  description:
    "Rates how likely an image is to be not safe for work, with nsfwjs 4.3.0's MobileNetV2 network " +
    "(GantMan's nsfw_model, trained in Keras on images gathered by nsfw_data_scraper; the weights ship " +
    'inside the nsfwjs package, MIT licence) on CPU through TensorFlow.js (wasm). The image is stretched to 224x224. ' +
    'Five concepts whose values add up to 1: neutral (everyday photos), drawing (safe drawings and ' +
    'illustrations), sexy (suggestive but not explicit), porn (explicit photos), hentai (explicit ' +
    'drawings). It judges the whole image only: it does not find where content is, and it is not ' +
    'a check for violence, gore, drugs, hate symbols or text. Its makers report about 90% accuracy; ' +
    'it errs on both sides (skin-heavy safe photos, unusual explicit ones), so use it to sort or flag images for a person to review, not as the final word.' +
    describeLimits(LIMITS),
  inputType: 'image',
  imageSize: NSFW_INPUT_SIZE,
  licence: 'MIT',
  params: {},
  concepts: [...NSFW_CLASSES],
  limits: LIMITS,
  runtime: { kind: 'nsfwjs' },
  // Batches form by themselves while a batch runs (inputs queue behind it); waiting for one to fill
  // would delay a request that arrives alone by the whole wait (measured: +5 ms of 60).
  batching: { max_batch_size: 8, max_wait_ms: 0 },
};
