import { fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { InputSourceOption } from '../commands/model/predict-options.js';
import { CliUsageError } from '../errors.js';
import { expandGlob, hasGlob, listFolder } from './glob.js';
import { readInputList } from './input-list.js';
import type { InputItem } from './items.js';

export interface Stdin {
  /** Whether input was piped or redirected in (`cmd | clarifai ...`, `clarifai ... < file`). */
  piped(): boolean;
  read(): Promise<Buffer>;
}

/**
 * Standard input, read only when asked. "Piped" means a pipe (FIFO) or a regular file, not a
 * terminal and not a socket: a parent process that spawns the CLI with a socket it never closes
 * (as test runners and some supervisors do) must not make a command wait for input it never sends.
 */
export const processStdin: Stdin = {
  piped() {
    try {
      const st = fstatSync(0);
      return st.isFIFO() || st.isFile();
    } catch {
      return false;
    }
  },
  async read() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
};

const NO_INPUT =
  'give exactly one input: --file_path, --url, --bytes or --input_id (or many: files, folders, globs and URLs as arguments or repeated flags, --input_list FILE, or piped stdin); none was given';

/** Every input the command line names, in order: flags, then positional inputs, then --input_list; else piped stdin. */
export async function collectItems(
  sources: readonly InputSourceOption[],
  words: readonly string[],
  inputList: string | undefined,
  stdin: Stdin,
): Promise<InputItem[]> {
  let stdinUsed = false;
  const fromStdin = async (): Promise<InputItem> => {
    if (stdinUsed) throw new CliUsageError('"-" (stdin) is given twice; stdin can be read once');
    stdinUsed = true;
    return { kind: 'bytes', bytes: await stdin.read(), source: '-' };
  };
  const items: InputItem[] = [];
  for (const src of sources) {
    if (src.kind === 'url') items.push({ kind: 'url', url: src.value, source: src.value });
    else if (src.kind === 'bytes') items.push({ kind: 'text', text: src.value, source: src.value });
    else if (src.kind === 'input_id') items.push({ kind: 'input_id', inputId: src.value, source: src.value });
    else if (src.value === '-') items.push(await fromStdin());
    else items.push(...(await pathItems(src.value, '--file_path', true)));
  }
  for (const word of words) {
    if (word === '-') items.push(await fromStdin());
    else if (/^https?:\/\//i.test(word)) items.push({ kind: 'url', url: word, source: word });
    else items.push(...(await pathItems(word, 'argument', false)));
  }
  if (inputList !== undefined) {
    const listed = await readInputList(inputList);
    if (listed.length === 0) throw new CliUsageError(`--input_list ${inputList} holds no inputs`);
    items.push(...listed);
  }
  if (items.length === 0 && stdin.piped()) {
    const item = await fromStdin();
    if (item.kind === 'bytes' && item.bytes.length === 0)
      throw new CliUsageError(`${NO_INPUT} (stdin was empty)`);
    items.push(item);
  }
  if (items.length === 0) throw new CliUsageError(NO_INPUT);
  return items;
}

/** A path, folder or glob; a word that is none of them stays a word (it may be text). */
async function pathItems(value: string, label: string, mustExist: boolean): Promise<InputItem[]> {
  let st;
  try {
    st = await stat(value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (hasGlob(value)) {
      const files = await expandGlob(value);
      if (files.length === 0) throw new CliUsageError(`${label} "${value}" matches no file`);
      return files.map((path) => ({ kind: 'file', path, source: path, listed: true }));
    }
    if (code === 'ENOENT' && !mustExist) return [{ kind: 'word', word: value, source: value }];
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliUsageError(`cannot read ${label === 'argument' ? '' : `${label} `}${value}: ${why}`);
  }
  if (st.isDirectory()) {
    const files = await listFolder(value);
    if (files.length === 0) throw new CliUsageError(`${label} ${value} is a folder with no files in it`);
    return files.map((path) => ({ kind: 'file', path, source: path, listed: true }));
  }
  return [{ kind: 'file', path: value, source: value }];
}
