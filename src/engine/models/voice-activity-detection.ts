import { MAX_AUDIO_SECONDS } from '../media/audio.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

const LIMITS: InputLimits = { maxAudioSeconds: MAX_AUDIO_SECONDS };

/**
 * Speech segments in audio. Clarifai has no model type for voice activity, so this one is
 * `audio-to-segments` (an audio input; the output is time segments, as a visual-detector's is
 * regions); `audio-` keeps the input type right wherever a type implies it.
 */
export const voiceActivityDetection: ModelSpec = {
  id: 'voice-activity-detection',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: '5f1d2a7c0b3e4d6a8c9e1f2a3b4c5d6e',
  name: 'Voice activity detection',
  modelTypeId: 'audio-to-segments',
  description:
    'Finds where people speak in audio and returns one time segment per stretch of speech ' +
    '(data.time_segments[].time_info begin_time and end_time, in seconds), each with the concept ' +
    '"speech" valued by the mean speech probability over the segment. It runs Silero VAD v5 ' +
    '(a small convolutional + LSTM network, MIT licence, the ONNX file shipped in ' +
    '@ricky0123/vad-web) on CPU through onnxruntime-node, on 16 kHz mono audio in 32 ms frames. ' +
    'It does not say who speaks, what is said or in which language, and it may take singing or ' +
    'loud vocal sounds for speech. WAV is read directly; mp3, ogg, flac, webm and m4a need ffmpeg ' +
    'on the server.' +
    describeLimits(LIMITS),
  inputType: 'audio',
  audioSampleRate: 16_000,
  licence: 'MIT',
  params: {
    threshold: {
      type: 'number',
      description:
        'A frame whose speech probability reaches this starts or continues speech; speech ends after ' +
        'min_silence_ms below threshold - 0.15. Raise it in noisy audio, lower it for quiet speech.',
      default: 0.5,
      min: 0.05,
      max: 0.95,
    },
    min_speech_ms: {
      type: 'integer',
      description: 'Speech segments shorter than this (clicks, coughs) are dropped.',
      default: 250,
      min: 0,
      max: 60_000,
    },
    min_silence_ms: {
      type: 'integer',
      description: 'A pause must last this long to end a segment; shorter pauses stay inside it.',
      default: 100,
      min: 0,
      max: 60_000,
    },
    speech_pad_ms: {
      type: 'integer',
      description: 'Each segment is widened by this on both sides (up to half the gap to its neighbour).',
      default: 30,
      min: 0,
      max: 5_000,
    },
  },
  concepts: ['speech'],
  limits: LIMITS,
  runtime: { kind: 'silero-vad' },
  // The LSTM reads each input frame by frame; inputs in one batch would still run one by one.
  batching: { max_batch_size: 1, max_wait_ms: 0 },
};
