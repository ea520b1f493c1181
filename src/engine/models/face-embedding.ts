import { DEFAULT_MAX_IMAGE_PIXELS } from '../media/image-limits.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { FACE_CONCEPT, FACE_FINDING, FACE_IMAGE_SIZE, FACE_PARAMS } from './face-detection.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

/** FaceRecognitionNet's descriptor length. */
export const FACE_EMBEDDING_DIMENSIONS = 128;

const LIMITS: InputLimits = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS };

export const faceEmbedding: ModelSpec = {
  id: 'face-embedding',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: 'c6960a737eeda74621a7450f1c0b5c8e',
  name: 'Face embedding',
  modelTypeId: 'visual-embedder',
  description:
    'Turns each human face in an image into a 128-number vector for comparing faces: photos of ' +
    `one person give vectors close together. ${FACE_FINDING} Each region's data.embeddings holds ` +
    "the FaceRecognitionNet descriptor (a ResNet-34-like network modelled on dlib's face " +
    'recognition model) of the aligned face, scaled to unit length: compare with Euclidean ' +
    "distance or cosine similarity. Measured on face-api's demo photos: edited copies of one face " +
    '(mirrored, cropped, darkened, JPEG) 0.07-0.15 apart, different people 0.32-0.60 apart, so ' +
    'a limit near 0.25 separates them there; choose yours on your own photos. What it is not: it ' +
    'names nobody and is no proof of identity, and it is weaker on faces unlike its training ' +
    'photos (children, strong profile, low light).' +
    describeLimits(LIMITS),
  inputType: 'image',
  imageSize: FACE_IMAGE_SIZE,
  params: FACE_PARAMS,
  concepts: [FACE_CONCEPT],
  licence: 'MIT',
  limits: LIMITS,
  runtime: { kind: 'face-api', output: 'embeddings' },
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
