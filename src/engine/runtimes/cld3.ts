import type { LanguageIdentifier, LanguageResult } from 'cld3-asm';
import { InvalidArgumentError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import type { Concept } from '../../core/wire.js';
import { MAIN_APP_ID } from '../models/owner.js';
import { textOf } from '../models/inputs.js';
import type { LoadedModel, Runtime } from '../types.js';
import { UNDETERMINED } from './cld3-languages.js';

/** Spans shorter than this many bytes are still scored: callers send short texts too. */
const MIN_BYTES = 0;
/** CLD3 reads at most this many bytes of each script span; plenty to tell a language. */
const MAX_BYTES = 1000;
const MAX_LANGUAGES = 3;
/**
 * CLD3 looks at the first 10,000 bytes of a text only (kMaxNumInputBytesToConsider), but
 * cld3-asm copies the whole text into a fixed 16 MiB wasm heap first: a text of a few MB aborts
 * the module (and leaks the copy). The first 10,001 UTF-16 units always hold those 10,000 bytes,
 * so passing only them gives the same answer and keeps each call's heap use small.
 */
const CLD3_READS_UNITS = 10_001;
/**
 * Texts with fewer letters than this (see countLetters) have their values scaled down in proportion: on a word or
 * two CLD3 guesses wildly and confidently ("hello" is Serbian at 0.83, "hi" Catalan at 1.0).
 */
export const FULL_CONFIDENCE_LETTERS = 30;
/** A language CLD3 itself marks unreliable (is_reliable false) keeps this share of its value. */
export const UNRELIABLE_FACTOR = 0.5;
/** The doubt left over (1 minus the languages' values) is reported as "und" when at least this. */
export const MIN_UNDETERMINED = 0.1;

/** Google's CLD3 language identifier (cld3-asm, WebAssembly): `runtime: {kind: cld3}`. */
export class Cld3Runtime implements Runtime {
  async load(): Promise<LoadedModel> {
    const { loadModule } = await import('cld3-asm');
    const identifier = (await loadModule()).create(MIN_BYTES, MAX_BYTES);
    // What CLD3 answers when nothing is left after its cleaning ("ja" at 0.7838): the answer for
    // empty text, punctuation, binary soup and text squeezed away as repetitive. Never a language.
    const nothing = identifier.findLanguage('');
    return {
      predict: (batch) =>
        Promise.resolve(batch.map((input) => ({ concepts: identify(identifier, nothing, textOf(input)) }))),
      bytes: 16 * 1024 * 1024,
      unload: () => Promise.resolve(identifier.dispose()),
    };
  }
}

function identify(identifier: LanguageIdentifier, nothing: LanguageResult, text: string): Concept[] {
  if (text.trim() === '') {
    throw new InvalidArgumentError(
      'language identification needs some text; got an empty or blank string',
      StatusCode.INPUT_INVALID_ARGUMENT,
      'Invalid input argument',
    );
  }
  // CLD3 answers "ja" with high confidence for digits or punctuation alone; say "unknown" instead.
  if (!/\p{L}/u.test(text)) return [concept(UNDETERMINED, 1)];
  const read = prefixCld3Reads(text);
  let results = identifier.findMostFrequentLanguages(read, MAX_LANGUAGES);
  // Every span was too short to score on its own: fall back to judging the text as a whole.
  if (!results.some((r) => r.language !== UNDETERMINED)) results = [identifier.findLanguage(read)];
  const shortness = Math.min(1, countLetters(text, FULL_CONFIDENCE_LETTERS) / FULL_CONFIDENCE_LETTERS);
  const saysNothing = (r: LanguageResult) =>
    r.language === nothing.language && Math.abs(r.probability - nothing.probability) < 1e-5;
  const found = results
    .filter((r) => r.language !== UNDETERMINED && !saysNothing(r))
    .map((r) => concept(r.language, confidence(r) * shortness));
  const doubt = 1 - found.reduce((sum, c) => sum + c.value, 0);
  if (doubt >= MIN_UNDETERMINED) found.push(concept(UNDETERMINED, doubt));
  return found.sort((a, b) => b.value - a.value);
}

/** The network's probability times the share of the text in that language, halved when unreliable. */
function confidence(r: LanguageResult): number {
  return r.probability * r.proportion * (r.is_reliable ? 1 : UNRELIABLE_FACTOR);
}

function prefixCld3Reads(text: string): string {
  if (text.length <= CLD3_READS_UNITS) return text;
  const prefix = text.slice(0, CLD3_READS_UNITS);
  const last = prefix.charCodeAt(prefix.length - 1);
  // never end on half a surrogate pair
  return last >= 0xd800 && last < 0xdc00 ? prefix.slice(0, -1) : prefix;
}

/**
 * Letters in the text, counting no further than `enough`. A CJK, kana or hangul character (from
 * U+3000) counts as three: one says about as much as a short Latin word.
 */
function countLetters(text: string, enough: number): number {
  let letters = 0;
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    letters += ch.codePointAt(0)! >= 0x3000 ? 3 : 1;
    if (letters >= enough) break;
  }
  return letters;
}

function concept(code: string, value: number): Concept {
  return { id: code, name: code, value, app_id: MAIN_APP_ID };
}
