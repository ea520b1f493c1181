import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isWithin } from '../core/folder-files.js';
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

export { listFolderFiles } from '../core/folder-files.js';
