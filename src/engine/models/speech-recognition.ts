import { POCKETSPHINX_COMMAND, POCKETSPHINX_INSTALL } from '../runtimes/pocketsphinx.js';
import { MAX_AUDIO_SECONDS } from '../media/audio.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

const LIMITS: InputLimits = { maxAudioSeconds: MAX_AUDIO_SECONDS };

export const speechRecognition: ModelSpec = {
  id: 'speech-recognition',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: '9a3c1e5b7d2f4a6c8e0b1d3f5a7c9e2b',
  name: 'Speech recognition (English)',
  modelTypeId: 'audio-to-text',
  description:
    'Writes down what is said in English audio, as data.text.raw (lower case, no punctuation). ' +
    "It runs CMU PocketSphinx 5prealpha (BSD licence; Debian's pocketsphinx and " +
    'pocketsphinx-en-us packages, which the server must have installed) with its US English ' +
    'continuous acoustic model (HMM/GMM), generic 3-gram language model and CMUdict. It is a ' +
    'classic small recogniser, not a neural one: expect roughly one word in five wrong on clear ' +
    'read speech, more with noise, accents or unusual words; it does not translate, punctuate, ' +
    'tell speakers apart or give timestamps.' +
    describeLimits(LIMITS),
  inputType: 'audio',
  audioSampleRate: 16_000,
  licence: 'BSD',
  requires: { command: POCKETSPHINX_COMMAND, install: POCKETSPHINX_INSTALL },
  params: {
    task: {
      type: 'string',
      enum: ['transcribe', 'translate'],
      default: 'transcribe',
      description:
        'transcribe: English text of English speech. translate is refused: this model cannot translate.',
    },
    language: {
      type: 'string',
      default: 'en',
      description: 'The spoken language: en only (the installed models are US English).',
    },
    temperature: {
      type: 'number',
      min: 0,
      max: 1,
      description:
        'Accepted for OpenAI-style clients; pocketsphinx decodes deterministically, so it has no effect.',
    },
  },
  // kind pocketsphinx, model_dir: where pocketsphinx-en-us installs the en-us model
  limits: LIMITS,
  runtime: { kind: 'pocketsphinx' },
  // one process per input: batching only makes inputs wait for each other
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
