import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  CONFIG_FILE,
  listFolderFiles,
  readFolderVisibility,
  readModelFolder,
  type Engine,
} from '../engine/index.js';
import type { Store } from '../store/index.js';
import { upsertManagedModel } from './builtins.js';

export interface RegisteredFolder {
  name: string;
  versionId: string;
}

/**
 * `clarifai serve --models DIR`: every folder under DIR holding a config.yaml (or DIR itself) is
 * a model, served in place under the ids its config names (the model-repository convention of
 * Triton and KServe). The version id is a hash of the folder's files, so restarting with the same
 * folder finds the same version and changed weights make a new one. Each folder is checked with
 * its runtime before it is served; a bad one stops the start with its reason.
 */
export async function registerModelFolders(
  store: Store,
  engine: Engine,
  dir: string,
): Promise<RegisteredFolder[]> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`--models ${dir}: no such folder`);
  const folders = (await hasConfig(root))
    ? [root]
    : (await readdir(root, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => path.join(root, e.name))
        .sort();
  const registered: RegisteredFolder[] = [];
  for (const folder of folders) {
    if (!(await hasConfig(folder))) continue;
    const versionId = await folderHash(folder);
    const spec = await engine.validate(await readModelFolder(folder, versionId));
    await upsertManagedModel(store, spec, await readFolderVisibility(folder), folder);
    registered.push({ name: `${spec.userId}/${spec.appId}/${spec.id}`, versionId });
  }
  return registered;
}

async function hasConfig(folder: string): Promise<boolean> {
  return (await stat(path.join(folder, CONFIG_FILE)).catch(() => undefined))?.isFile() ?? false;
}

/** SHA-256 over each file's path and bytes, in path order; the first 32 hex digits. */
async function folderHash(folder: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of await listFolderFiles(folder)) {
    hash.update(`${name}\0`);
    for await (const chunk of createReadStream(path.join(folder, name))) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}
