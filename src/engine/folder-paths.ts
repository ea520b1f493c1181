import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { folderError } from './config-reader.js';
import type { ModelSpec } from './spec.js';

/**
 * The absolute path of a file a config names (runtime.file, runtime.labels...). Names are relative
 * to the folder and must stay inside it: an uploaded folder travels to a server, and a config
 * naming `../../etc/passwd` must not read the server's files.
 */
export function insideFolder(spec: Pick<ModelSpec, 'folder'>, name: string, key: string): string {
  if (!spec.folder) throw folderError(`${key} names ${name}, but this model version has no folder`);
  const full = path.resolve(spec.folder, name);
  if (path.isAbsolute(name) || !isWithin(spec.folder, full)) {
    throw folderError(
      `config.yaml ${key} must be a path inside the model folder, got ${JSON.stringify(name)}`,
    );
  }
  return full;
}

/** Like insideFolder, and the file must exist as a regular file (a symlink may not lead out). */
export async function existingFile(
  spec: Pick<ModelSpec, 'folder'>,
  name: string,
  key: string,
): Promise<string> {
  const full = insideFolder(spec, name, key);
  let real: string;
  try {
    real = await realpath(full);
  } catch {
    throw folderError(`config.yaml ${key} names ${name}, which is not in the model folder ${spec.folder}`);
  }
  if (!isWithin(await realpath(spec.folder!), real))
    throw folderError(`${name} (config.yaml ${key}) is a link to a file outside the model folder`);
  if (!(await stat(real)).isFile()) throw folderError(`${name} (config.yaml ${key}) is not a regular file`);
  return full;
}

function isWithin(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The files an upload sends: relative paths (with `/`) of regular files, sorted. Dotfiles and dot
 * folders (.git, .DS_Store) are not part of a model. A symlink is followed only while it stays in
 * the folder; one that leads out is refused rather than silently uploading someone else's file.
 */
export async function listFolderFiles(dir: string): Promise<string[]> {
  const root = await realpath(dir);
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
