import type { LanguageIdentifier } from 'cld3-asm';
import type { Concept } from '../../core/wire.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { ModelDefinition } from '../types.js';
import { textOf } from './inputs.js';
import { CLARIFAI_USER_ID, MAIN_APP_ID } from './owner.js';

/** The languages CLD3 knows (ISO 639-1 where one exists; `-Latn` marks romanised text). */
// prettier-ignore
export const CLD3_LANGUAGES: readonly string[] = [
  'af', 'am', 'ar', 'az', 'be', 'bg', 'bg-Latn', 'bn', 'bs', 'ca', 'ceb', 'co', 'cs', 'cy', 'da',
  'de', 'el', 'el-Latn', 'en', 'eo', 'es', 'et', 'eu', 'fa', 'fi', 'fil', 'fr', 'fy', 'ga', 'gd',
  'gl', 'gu', 'ha', 'haw', 'hi', 'hi-Latn', 'hmn', 'hr', 'ht', 'hu', 'hy', 'id', 'ig', 'is', 'it',
  'iw', 'ja', 'ja-Latn', 'jv', 'ka', 'kk', 'km', 'kn', 'ko', 'ku', 'ky', 'la', 'lb', 'lo', 'lt',
  'lv', 'mg', 'mi', 'mk', 'ml', 'mn', 'mr', 'ms', 'mt', 'my', 'ne', 'nl', 'no', 'ny', 'pa', 'pl',
  'ps', 'pt', 'ro', 'ru', 'ru-Latn', 'sd', 'si', 'sk', 'sl', 'sm', 'sn', 'so', 'sq', 'sr', 'st',
  'su', 'sv', 'sw', 'ta', 'te', 'tg', 'th', 'tr', 'uk', 'ur', 'uz', 'vi', 'xh', 'yi', 'yo', 'zh',
  'zh-Latn', 'zu',
];

/** CLD3's code for "no language could be determined" (text with no letters at all). */
const UNDETERMINED = 'und';
/** Spans shorter than this many bytes are still scored: callers send short texts too. */
const MIN_BYTES = 0;
/** CLD3 reads at most this many bytes of each script span; plenty to tell a language. */
const MAX_BYTES = 1000;
const MAX_LANGUAGES = 3;

export const languageIdentification: ModelDefinition = {
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
  async load() {
    // Imported here, not at the top, so listing models does not load the wasm module's code.
    const { loadModule } = await import('cld3-asm');
    const identifier = (await loadModule()).create(MIN_BYTES, MAX_BYTES);
    return {
      predict: (batch) =>
        Promise.resolve(batch.map((input) => ({ concepts: identify(identifier, textOf(input)) }))),
      unload: () => Promise.resolve(identifier.dispose()),
    };
  },
};

function identify(identifier: LanguageIdentifier, text: string): Concept[] {
  if (text.trim() === '') {
    throw new InvalidArgumentError(
      'language identification needs some text; got an empty or blank string',
      StatusCode.INPUT_INVALID_ARGUMENT,
      'Invalid input argument',
    );
  }
  // CLD3 answers "ja" with high confidence for digits or punctuation alone; say "unknown" instead.
  if (!/\p{L}/u.test(text)) return [concept(UNDETERMINED, 1)];
  const found = identifier
    .findMostFrequentLanguages(text, MAX_LANGUAGES)
    .filter((r) => r.language !== UNDETERMINED)
    .map((r) => concept(r.language, r.probability * r.proportion));
  if (found.length > 0) return found.sort((a, b) => b.value - a.value);
  // Every span was too short to score on its own: fall back to judging the text as a whole.
  const whole = identifier.findLanguage(text);
  return [concept(whole.language, whole.probability)];
}

function concept(code: string, value: number): Concept {
  return { id: code, name: code, value, app_id: MAIN_APP_ID };
}
