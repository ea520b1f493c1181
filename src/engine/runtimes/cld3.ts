import type { LanguageIdentifier } from 'cld3-asm';
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

/** Google's CLD3 language identifier (cld3-asm, WebAssembly): `runtime: {kind: cld3}`. */
export class Cld3Runtime implements Runtime {
  async load(): Promise<LoadedModel> {
    const { loadModule } = await import('cld3-asm');
    const identifier = (await loadModule()).create(MIN_BYTES, MAX_BYTES);
    return {
      predict: (batch) =>
        Promise.resolve(batch.map((input) => ({ concepts: identify(identifier, textOf(input)) }))),
      bytes: 16 * 1024 * 1024,
      unload: () => Promise.resolve(identifier.dispose()),
    };
  }
}

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
