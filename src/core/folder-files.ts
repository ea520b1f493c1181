import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { StatusCode } from './status.js';

/**
 * A model folder's files, as both the upload client (CLI) and the engine see them. In core
 * because the CLI may not import the engine.
 */

function folderError(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.MODEL_INVALID_ARGUMENT);
}

export function isWithin(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The files an upload sends: relative paths (with `/`) of regular files, sorted. Dotfiles and dot
 * folders (.git, .DS_Store) are not part of a model. A symlink is followed only while it stays in
 * the folder; one that leads out is refused rather than silently uploading someone else's file.
 */
export async function listFolderFiles(dir: string): Promise<string[]> {
  const root = await realpath(dir).catch(() => {
    throw folderError(`${dir} does not exist`);
  });
  if (!(await stat(root)).isDirectory()) throw folderError(`${dir} is not a folder`);
  const files: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const full = path.join(root, relPath);
      let real = full;
      if ((await lstat(full)).isSymbolicLink()) {
        real = await realpath(full).catch(() => {
          throw folderError(`${relPath} in ${dir} is a broken symbolic link`);
        });
        if (!isWithin(root, real))
          throw folderError(`${relPath} in ${dir} is a link to ${real}, outside the folder`);
      }
      const info = await stat(real);
      if (info.isDirectory()) {
        // a link to a folder inside the folder would list its files twice (or loop): skip it
        if (real === full) await walk(relPath);
      } else if (info.isFile()) files.push(relPath);
    }
  }
  await walk('');
  return files.sort();
}
