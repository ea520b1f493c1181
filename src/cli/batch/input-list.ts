import { readFile } from 'node:fs/promises';
import type { Input } from '../../core/wire.js';
import { CliUsageError } from '../errors.js';
import type { InputItem } from './items.js';

/**
 * Reads a list of inputs: JSONL (one object a line: {"file_path"|"url"|"text", "input_id"?}, or a
 * v2 input {"id"?, "data": {...}}), or CSV with a header naming its columns: file_path, url, text,
 * or Clarifai's SDK layout `inputid,input,...` (input: a URL, a file, else text); input_id or id
 * optional. Each bad row is refused with its line number.
 */
export async function readInputList(path: string): Promise<InputItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliUsageError(
      `cannot read --input_list ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
    );
  }
  const jsonl =
    /\.(jsonl|ndjson)$/i.test(path) || (!/\.csv$/i.test(path) && text.trimStart().startsWith('{'));
  return jsonl ? fromJsonl(path, text) : fromCsv(path, text);
}

function fromJsonl(path: string, text: string): InputItem[] {
  const items: InputItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path} line ${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new CliUsageError(`${where} is not JSON (${(err as Error).message})`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new CliUsageError(`${where} must be a JSON object`);
    items.push(fromRow(row as Record<string, unknown>, where));
  });
  return items;
}

function fromRow(row: Record<string, unknown>, where: string): InputItem {
  const id = row.input_id ?? row.id;
  if (id !== undefined && (typeof id !== 'string' || id === ''))
    throw new CliUsageError(`${where}: input_id must be non-empty text`);
  const withId = id ? { id: id as string } : {};
  if (typeof row.data === 'object' && row.data !== null) {
    const input: Input = { ...(id ? { id: id as string } : {}), data: row.data as Input['data'] };
    return {
      kind: 'input',
      input,
      source: (id as string) ?? JSON.stringify(row.data).slice(0, 200),
      ...withId,
    };
  }
  const given = (['file_path', 'url', 'text', 'input'] as const).filter(
    (k) => typeof row[k] === 'string' && row[k] !== '',
  );
  if (given.length !== 1)
    throw new CliUsageError(
      `${where} must have exactly one of file_path, url, text (or input, or a v2 "data"); ${given.length === 0 ? 'it has none' : `it has ${given.join(' and ')}`}`,
    );
  const key = given[0]!;
  const value = row[key] as string;
  if (key === 'file_path') return { kind: 'file', path: value, source: (id as string) ?? value, ...withId };
  if (key === 'url') return { kind: 'url', url: value, source: (id as string) ?? value, ...withId };
  if (key === 'text') return { kind: 'text', text: value, source: (id as string) ?? value, ...withId };
  // Clarifai's `input` column: a URL, else a word resolved like a positional argument
  if (/^https?:\/\//i.test(value))
    return { kind: 'url', url: value, source: (id as string) ?? value, ...withId };
  return { kind: 'word', word: value, source: (id as string) ?? value, ...withId };
}

function fromCsv(path: string, text: string): InputItem[] {
  const rows = parseCsv(text);
  const header = rows.shift()?.map((h) => h.trim().toLowerCase());
  if (!header) throw new CliUsageError(`${path} is empty`);
  const known = ['file_path', 'url', 'text', 'input', 'input_id', 'inputid', 'id'];
  if (!header.some((h) => ['file_path', 'url', 'text', 'input'].includes(h)))
    throw new CliUsageError(
      `${path}: the first row must name the columns, one of them file_path, url, text or input (got ${header.join(', ')})`,
    );
  return rows.flatMap((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return [];
    const row: Record<string, unknown> = {};
    header.forEach((h, c) => {
      const v = cells[c];
      if (!known.includes(h) || v === undefined || v === '') return;
      row[h === 'inputid' ? 'input_id' : h] = v;
    });
    return [fromRow(row, `${path} row ${i + 2}`)];
  });
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
