import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WordPiece } from '../../src/engine/tasks/wordpiece.js';

// A slice of BERT's uncased vocabulary shape: specials first, whole words, then ## continuations.
const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'un',
  '##aff',
  '##able',
  'hello',
  'world',
  '!',
  ',',
  'cafe',
  '中',
  '国',
  'runn',
  '##ing',
];
const id = (token: string) => VOCAB.indexOf(token);
const tokens = (ids: number[]) => ids.map((i) => VOCAB[i]);

describe('WordPiece', () => {
  const uncased = new WordPiece(VOCAB, true);

  it('wraps pieces in [CLS] ... [SEP], longest match first, ## for continuations', () => {
    const { ids, mask } = uncased.encode('unaffable running', 32);
    assert.deepEqual(tokens(ids), ['[CLS]', 'un', '##aff', '##able', 'runn', '##ing', '[SEP]']);
    assert.deepEqual(mask, [1, 1, 1, 1, 1, 1, 1]);
  });

  it('lowercases, strips accents, splits punctuation and spaces out CJK characters', () => {
    assert.deepEqual(tokens(uncased.encode('Hello,WORLD!  Café\t中国', 32).ids), [
      '[CLS]',
      'hello',
      ',',
      'world',
      '!',
      'cafe',
      '中',
      '国',
      '[SEP]',
    ]);
  });

  it('a word with no full match is one [UNK], as BERT does', () => {
    assert.deepEqual(tokens(uncased.encode('unknowable hello', 32).ids), [
      '[CLS]',
      '[UNK]',
      'hello',
      '[SEP]',
    ]);
  });

  it('a cased vocabulary keeps case, so capitals are unknown here', () => {
    const cased = new WordPiece(VOCAB, false);
    assert.deepEqual(tokens(cased.encode('Hello hello', 32).ids), ['[CLS]', '[UNK]', 'hello', '[SEP]']);
  });

  it('cuts to max_length, keeping [SEP] last', () => {
    const { ids } = uncased.encode('hello world hello world', 4);
    assert.deepEqual(tokens(ids), ['[CLS]', 'hello', 'world', '[SEP]']);
    assert.equal(ids[0], id('[CLS]'));
  });

  it('refuses a vocabulary without the special tokens', () => {
    assert.throws(
      () => new WordPiece(['hello'], true),
      /lacks \[PAD\], \[UNK\], \[CLS\], \[SEP\]|lacks \[CLS\]/,
    );
  });
});
