import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Whether a word holds glob characters that the shell left unexpanded (quoted, or no match there). */
export function hasGlob(word: string): boolean {
  return /[*?[]/.test(word);
}

/**
 * Expands a glob (`*`, `?`, `[...]`, and `**` for any depth) to the files it matches, sorted.
 * Node 20 has no fs.glob; shells expand unquoted globs themselves, so this serves quoted ones
 * (`'photos/**\/*.jpg'`), which also avoids "argument list too long" on big folders.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split('/');
  const absolute = pattern.startsWith('/');
  const fixed: string[] = [];
  while (parts.length > 1 && !hasGlob(parts[0]!)) fixed.push(parts.shift()!);
  const root = absolute ? fixed.join('/') || '/' : fixed.length > 0 ? fixed.join('/') : '.';
  const re = globRegExp(parts.join('/'));
  const out: string[] = [];
  const deep = parts.some((p) => p === '**') || parts.length > 1;
  for await (const rel of walk(root, '', deep ? Infinity : 0)) {
    if (re.test(rel)) out.push(root === '.' && !pattern.startsWith('./') ? rel : join(root, rel));
  }
  return out.sort();
}

async function* walk(root: string, rel: string, depth: number): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (depth > 0 && !e.name.startsWith('.')) yield* walk(root, path, depth - 1);
    } else if (e.isFile() || e.isSymbolicLink()) {
      yield path;
    }
  }
}

function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // "**/" matches any number of folders, including none
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Every file under a folder, at any depth, skipping hidden files and folders, sorted. */
export async function listFolder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const rel of walk(dir, '', Infinity)) {
    if (!rel.split('/').some((p) => p.startsWith('.'))) out.push(join(dir, rel));
  }
  return out.sort();
}
