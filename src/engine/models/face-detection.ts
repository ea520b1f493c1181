import { DEFAULT_MAX_IMAGE_PIXELS } from '../media/image-limits.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import type { ParamSpec } from '../types.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

/** The concept every face region carries, valued by the detector's score. */
export const FACE_CONCEPT = 'face';
/** AgeGenderNet's two classes under Clarifai's demographics names (face-api says female/male). */
export const FEMININE = 'feminine';
export const MASCULINE = 'masculine';
/** FaceExpressionNet's seven classes, verbatim. */
export const FACE_EXPRESSIONS = [
  'neutral',
  'happy',
  'sad',
  'angry',
  'fearful',
  'disgusted',
  'surprised',
] as const;

/** Faces are small in group photos: decode up to this side so the face crops keep detail. */
export const FACE_IMAGE_SIZE = 1024;
export const MAX_FACES = 100;

/** min_score and max_faces, shared by both face models. */
export const FACE_PARAMS: Record<string, ParamSpec> = {
  min_score: {
    type: 'number',
    description:
      'Faces the detector scores below this are not returned. Clear faces score 0.9-1.0, small, ' +
      'turned or shaded ones 0.5-0.9.',
    default: 0.5,
    min: 0,
    max: 1,
  },
  max_faces: {
    type: 'integer',
    description: 'The most faces to return per image, best scoring first.',
    default: 20,
    min: 1,
    max: MAX_FACES,
  },
};

/** How faces are found, as both models' descriptions say it. */
export const FACE_FINDING =
  'Faces are found by SSD MobileNet v1 and kept only where TinyFaceDetector also sees a face ' +
  '(that drops animal faces SSD alone reports), then aligned with the 68-point landmark net. ' +
  'Networks and weights from @vladmandic/face-api 1.7.15 (MIT licence). Each face is a region ' +
  'whose bounding box is in fractions of the image size, with a "face" concept valued by the ' +
  'detector score.';

const LIMITS: InputLimits = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS };

export const faceDetection: ModelSpec = {
  id: 'face-detection',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: '78fbcbcf1a229b236cbe8ab7e505c164',
  name: 'Face detection',
  modelTypeId: 'visual-detector',
  description:
    `Finds human faces in an image and describes how each looks. ${FACE_FINDING} ` +
    'Each region also has concepts "feminine" and "masculine" (AgeGenderNet\'s female/male ' +
    'probabilities, summing to 1) and the seven FaceExpressionNet expressions with their ' +
    `probabilities (${FACE_EXPRESSIONS.join(', ')}; summing to 1). AgeGenderNet estimates age as a ` +
    "number of years, not a probability, so it is not a concept: it is the region's " +
    'data.metadata.age (years, one decimal). What it is not: it does not identify anyone (see ' +
    'face-embedding for comparing faces); the age is a rough guess, not a reliable age (Eileen ' +
    "Collins, about 42 in skimage's astronaut photo, gets 32); gender and expression describe " +
    'how a face looks, not who someone is or what they feel.' +
    describeLimits(LIMITS),
  inputType: 'image',
  imageSize: FACE_IMAGE_SIZE,
  params: FACE_PARAMS,
  concepts: [FACE_CONCEPT, FEMININE, MASCULINE, ...FACE_EXPRESSIONS],
  licence: 'MIT',
  limits: LIMITS,
  runtime: { kind: 'face-api', output: 'attributes' },
  // face-api runs one image at a time (detection, then each face), so batching only adds waiting.
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
