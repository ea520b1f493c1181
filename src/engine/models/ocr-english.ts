import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

const LIMITS: InputLimits = { maxPixels: 25_000_000 };

export const ocrEnglish: ModelSpec = {
  id: 'ocr-english',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: 'b15a81bbe22b7a104cf0b0d64c15d6f4',
  name: 'OCR English',
  modelTypeId: 'image-to-text',
  description:
    "Reads printed English text in an image with Tesseract 5's LSTM recogniser (tesseract.js 7, " +
    'WebAssembly, on CPU; English data from @tesseract.js-data/eng; Apache-2.0 licence). The output ' +
    'text holds every line read, top to bottom, one per line; each line is also a region with its ' +
    'bounding box (fractions of the image), its text, and its confidence (0-1) as the value. Best ' +
    'on scans, screenshots and documents: dark text on a plain background, upright, with letters at ' +
    'least about 20 pixels tall. It is not a scene-text reader: text on signs, at an angle, curved, ' +
    'handwritten or over busy photos is often missed or misread, and it reads English (Latin ' +
    'letters) only.' +
    describeLimits(LIMITS),
  inputType: 'image',
  licence: 'Apache-2.0',
  params: {
    min_confidence: {
      type: 'number',
      description:
        'Lines Tesseract is less sure of than this (0-1) are left out of the text and the regions. ' +
        'Clean printed text reads at 0.9 or more; noise mistaken for text is usually under 0.5, ' +
        'so lines under 0.6 are left out unless this says otherwise (0 keeps every line).',
      default: 0.6,
      min: 0,
      max: 1,
    },
  },
  limits: LIMITS,
  runtime: { kind: 'tesseract', lang: 'eng' },
  // Tesseract reads one image at a time in its own thread; batching would gain nothing.
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
