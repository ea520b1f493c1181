import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SibylError } from '../core/errors.js';
import { listFolderFiles } from '../core/folder-files.js';
import { ModelUploads, type V2Client } from '../sdk/client.js';
import { UsageError } from '../sdk/errors.js';

/**
 * Sibyl model folders (config.yaml plus weights) as a runner serves them, found the way
 * `clarifai serve --models DIR` finds them: DIR itself when it holds a config.yaml, else each
 * folder under it that does.
 */

export interface FolderModel {
  folder: string;
  userId: string;
  appId: string;
  modelId: string;
  /** As config.yaml names it (visual-classifier, text-to-text...); '' when it names none. */
  modelTypeId: string;
}

export async function findModelFolders(dir: string, flag = '--models'): Promise<FolderModel[]> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info) throw new UsageError(`${flag} ${dir}: no such folder`);
  if (!info.isDirectory())
    throw new UsageError(`${flag} ${dir}: not a folder; give a folder of model folders`);
  const folders = (await hasConfig(root))
    ? [root]
    : (await readdir(root, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => path.join(root, e.name))
        .sort();
  const found: FolderModel[] = [];
  for (const folder of folders) if (await hasConfig(folder)) found.push(await readFolderIds(folder));
  if (found.length === 0)
    throw new UsageError(`${flag} ${dir}: no model folder (a folder with a config.yaml) in it`);
  return found;
}

async function hasConfig(folder: string): Promise<boolean> {
  return (await stat(path.join(folder, 'config.yaml')).catch(() => undefined))?.isFile() ?? false;
}

/** The model's ids from its config.yaml, checked here so a typo is caught before anything starts. */
export async function readFolderIds(folder: string): Promise<FolderModel> {
  const file = path.join(folder, 'config.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`${folder} is not a model folder: it has no config.yaml`);
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const model = (doc as { model?: unknown } | null)?.model;
  if (typeof model !== 'object' || model === null || Array.isArray(model))
    throw new UsageError(`${file} needs a model: block with id, user_id, app_id and model_type_id`);
  const m = model as Record<string, unknown>;
  const get = (key: string): string => {
    const value = m[key];
    if (typeof value !== 'string' || value === '')
      throw new UsageError(`${file}: model.${key} must be set (a non-empty string)`);
    return value;
  };
  const type = typeof m.model_type_id === 'string' ? m.model_type_id : '';
  return { folder, userId: get('user_id'), appId: get('app_id'), modelId: get('id'), modelTypeId: type };
}

/**
 * Uploads a folder as a new version of the model its config.yaml names, streaming its files,
 * through any transport (the embedded engine, or an API with a PAT). Returns the version id.
 */
export async function uploadFolder(client: V2Client, model: FolderModel): Promise<string> {
  let names: string[];
  try {
    names = await listFolderFiles(model.folder);
  } catch (error) {
    if (error instanceof SibylError) throw new UsageError(error.details ?? error.message);
    throw error;
  }
  const files = await Promise.all(
    names.map(async (name) => ({ path: name, size: (await stat(path.join(model.folder, name))).size })),
  );
  const uploads = new ModelUploads(client);
  const { upload } = await uploads.start(model, files);
  try {
    for (const file of files) {
      const full = path.join(model.folder, ...file.path.split('/'));
      await uploads.putFile(model.userId, upload.id, file.path, {
        bytes: file.size,
        open: () => createReadStream(full),
      });
    }
  } catch (error) {
    await uploads.cancel(model.userId, upload.id).catch(() => undefined);
    throw error;
  }
  const res = await uploads.commit(model.userId, upload.id);
  return res.model.model_version?.id ?? '';
}
