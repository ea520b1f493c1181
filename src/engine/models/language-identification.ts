import { CLD3_LANGUAGES, UNDETERMINED } from '../runtimes/cld3-languages.js';
import type { ModelSpec } from '../spec.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

export const languageIdentification: ModelSpec = {
  id: 'language-identification',
  userId: CLARIFAI_USER_ID,
  appId: MAIN_APP_ID,
  versionId: '735c344709325b7cbfd8da8e198dfee9',
  name: 'Language identification',
  modelTypeId: 'text-classifier',
  description:
    "Tells which language a text is written in, using Google's CLD3 neural network (cld3-asm, " +
    'WebAssembly). Concepts are language codes; a text mixing languages gets one concept per ' +
    'language, valued by confidence times the share of the text in it. Text without letters ' +
    `gives "${UNDETERMINED}". Short texts (a word or two) are often misjudged. ` +
    `Languages: ${CLD3_LANGUAGES.join(', ')}.`,
  inputType: 'text',
  params: {},
  concepts: [...CLD3_LANGUAGES, UNDETERMINED],
  licence: 'Apache-2.0',
  runtime: { kind: 'cld3' },
  // Texts are scored one by one in microseconds; a batch costs the same as its parts.
  batching: { max_batch_size: 32, max_wait_ms: 0 },
};
