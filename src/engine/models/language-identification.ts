import { CLD3_LANGUAGES, UNDETERMINED } from '../runtimes/cld3-languages.js';
import { describeLimits, type InputLimits, type ModelSpec } from '../spec.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

const LIMITS: InputLimits = { maxTextChars: 100_000 };

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
    'language, valued by confidence times the share of the text in it. Values add up to at most ' +
    `1; the doubt left over, when 0.1 or more, is the concept "${UNDETERMINED}" (undetermined). ` +
    'A language the network itself marks unreliable counts half, and a text with fewer than 30 ' +
    'letters (a CJK character counts three) has its values scaled down in proportion: a word or ' +
    `two is too little to tell a language ("hello" gives "${UNDETERMINED}" first). Text without ` +
    `letters gives only "${UNDETERMINED}". Only the first 10,000 bytes are read. ` +
    `Languages: ${CLD3_LANGUAGES.join(', ')}.` +
    describeLimits(LIMITS),
  inputType: 'text',
  params: {},
  concepts: [...CLD3_LANGUAGES, UNDETERMINED],
  licence: 'Apache-2.0',
  limits: LIMITS,
  runtime: { kind: 'cld3' },
  // Texts are scored one by one in microseconds; a batch costs the same as its parts.
  batching: { max_batch_size: 32, max_wait_ms: 0 },
};
