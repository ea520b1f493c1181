/**
 * BERT's tokenizer: the "basic" pass (clean, optionally lowercase and strip accents, split on
 * whitespace and punctuation, space out CJK characters), then WordPiece's greedy longest match
 * against the vocabulary, continuation pieces prefixed `##`. Matches Hugging Face's
 * BertTokenizer for the uncased and cased vocabularies that ship as `vocab.txt`.
 */
export interface Encoding {
  ids: number[];
  mask: number[];
}

export const SPECIAL_TOKENS = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]' } as const;
/** A word longer than this is one [UNK], as in BERT: matching it would cost quadratic time. */
const MAX_WORD_CHARS = 100;

export class WordPiece {
  private readonly ids = new Map<string, number>();
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;
  readonly unk: number;

  /** `vocab`: the lines of vocab.txt, a token per line, its id the line number from 0. */
  constructor(
    vocab: readonly string[],
    private readonly lowercase: boolean,
  ) {
    vocab.forEach((token, id) => {
      if (token !== '' && !this.ids.has(token)) this.ids.set(token, id);
    });
    const missing = Object.values(SPECIAL_TOKENS).filter((t) => !this.ids.has(t));
    if (missing.length > 0) throw new Error(`the vocabulary lacks ${missing.join(', ')}`);
    this.cls = this.ids.get(SPECIAL_TOKENS.cls)!;
    this.sep = this.ids.get(SPECIAL_TOKENS.sep)!;
    this.pad = this.ids.get(SPECIAL_TOKENS.pad)!;
    this.unk = this.ids.get(SPECIAL_TOKENS.unk)!;
  }

  get size(): number {
    return this.ids.size;
  }

  /** `[CLS] pieces... [SEP]`, cut to maxLength (the [SEP] is kept), no padding. */
  encode(text: string, maxLength: number): Encoding {
    const pieces: number[] = [];
    for (const word of this.words(text)) {
      pieces.push(...this.wordPieces(word));
      if (pieces.length >= maxLength - 2) break;
    }
    const ids = [this.cls, ...pieces.slice(0, Math.max(0, maxLength - 2)), this.sep];
    return { ids, mask: ids.map(() => 1) };
  }

  private words(text: string): string[] {
    let clean = '';
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      if (code === 0 || code === 0xfffd || (isControl(ch) && !/\s/u.test(ch))) continue;
      clean += isCjk(code) ? ` ${ch} ` : /\s/u.test(ch) ? ' ' : ch;
    }
    if (this.lowercase)
      clean = clean
        .toLowerCase()
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '');
    return clean
      .split(' ')
      .filter((w) => w !== '')
      .flatMap(splitPunctuation);
  }

  private wordPieces(word: string): number[] {
    const chars = [...word];
    if (chars.length > MAX_WORD_CHARS) return [this.unk];
    const out: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let id: number | undefined;
      for (; end > start; end--) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        id = this.ids.get(piece);
        if (id !== undefined) break;
      }
      // no piece matches: the whole word is unknown, as BERT does (not just the rest of it)
      if (id === undefined) return [this.unk];
      out.push(id);
      start = end;
    }
    return out;
  }
}

function splitPunctuation(word: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const ch of word) {
    if (isPunctuation(ch)) {
      if (current) out.push(current);
      out.push(ch);
      current = '';
    } else current += ch;
  }
  if (current) out.push(current);
  return out;
}

/** BERT counts every non-alphanumeric ASCII symbol as punctuation, plus Unicode's P classes. */
function isPunctuation(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  if (
    (code >= 33 && code <= 47) ||
    (code >= 58 && code <= 64) ||
    (code >= 91 && code <= 96) ||
    (code >= 123 && code <= 126)
  )
    return true;
  return /\p{P}/u.test(ch);
}

function isControl(ch: string): boolean {
  return /\p{Cc}|\p{Cf}/u.test(ch);
}

function isCjk(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}
