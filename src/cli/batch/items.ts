import type { Input } from '../../core/wire.js';

/**
 * One input of a prediction run, as the user named it. `source` is how it was named (a path as
 * given, a URL, "-", the text, an input id): it labels the input in every output and is the key
 * `--resume` matches on. Files are read only when their batch is sent.
 */
export type InputItem = { source: string; id?: string } & (
  | {
      kind: 'file';
      path: string;
      /** came from a folder or glob, so it may be filtered by type */ listed?: boolean;
    }
  | { kind: 'url'; url: string }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'input_id'; inputId: string }
  | { kind: 'input'; input: Input }
  /** a word that is no file, URL or glob: text, if the model takes text */
  | { kind: 'word'; word: string }
);
