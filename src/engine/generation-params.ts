import type { ParamSpec } from './types.js';

/**
 * The inference params of model types that no tensor task adapter covers: text generation and
 * transcription. Every runtime of such a type (llama-cpp, openai) honours all of them, so a
 * params typo is refused by name whichever engine runs the model. config.yaml `params:` may change
 * the defaults, as for any task.
 */
export const TEXT_GENERATION_PARAMS: Readonly<Record<string, ParamSpec>> = {
  temperature: {
    type: 'number',
    min: 0,
    max: 2,
    description: 'Sampling temperature: 0 always picks the likeliest token; higher is more varied.',
  },
  max_tokens: {
    type: 'integer',
    min: 1,
    max: 131072,
    default: 256,
    description: 'The most tokens to generate; generation stops there (finish reason "length").',
  },
  top_p: {
    type: 'number',
    min: 0,
    max: 1,
    description: 'Nucleus sampling: draw only from the likeliest tokens whose probabilities sum to this.',
  },
  top_k: { type: 'integer', min: 1, max: 1000, description: 'Draw only from this many likeliest tokens.' },
  stop: {
    type: 'strings',
    max: 8,
    description: 'Text that ends generation when produced (not included in the output); up to 8.',
  },
  seed: {
    type: 'integer',
    min: 0,
    max: 2 ** 32 - 1,
    description: 'Random seed: with the same seed and inputs, sampling repeats.',
  },
  system_prompt: { type: 'string', description: 'A system message put before the input.' },
  prompt_template: {
    type: 'string',
    description:
      'Wraps the input before it is sent: "{prompt}" (or "{{prompt}}") stands for the input text. Given, the chat template is not applied.',
  },
};

export const TRANSCRIPTION_PARAMS: Readonly<Record<string, ParamSpec>> = {
  task: {
    type: 'string',
    enum: ['transcribe', 'translate'],
    default: 'transcribe',
    description: 'transcribe: text in the spoken language; translate: English text.',
  },
  language: {
    type: 'string',
    description: 'The spoken language as an ISO-639-1 code (en, fr...), if known.',
  },
  temperature: { type: 'number', min: 0, max: 1, description: 'Sampling temperature of the decoder.' },
};

/** Params by model_type_id for the model types above; tensor tasks declare their own (tasks/). */
export const MODEL_TYPE_PARAMS: Readonly<Record<string, Readonly<Record<string, ParamSpec>>>> = {
  'text-to-text': TEXT_GENERATION_PARAMS,
  'multimodal-to-text': TEXT_GENERATION_PARAMS,
  'audio-to-text': TRANSCRIPTION_PARAMS,
};

export function modelTypeParams(modelTypeId: string): Readonly<Record<string, ParamSpec>> {
  return Object.hasOwn(MODEL_TYPE_PARAMS, modelTypeId) ? MODEL_TYPE_PARAMS[modelTypeId]! : {};
}
