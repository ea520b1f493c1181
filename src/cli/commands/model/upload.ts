import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { listFolderFiles } from '../../../core/folder-files.js';
import { SibylError } from '../../../core/errors.js';
import { ModelUploads, V2Client } from '../../../sdk/client.js';
import { openSession } from '../../connect.js';
import { CliUsageError } from '../../errors.js';
import { withProgress } from '../../render/progress.js';
import { readYamlMapping } from '../../yaml-file.js';

export interface ModelUploadOptions {
  output?: string;
}

/**
 * `clarifai model upload <dir>`: sends a model folder (config.yaml, weights, labels) to the
 * current target, the embedded engine or a server, which checks it completely (weights load,
 * shapes match) and adds it as a new version of the model its config names. Files are streamed,
 * never read whole; a progress line shows on a terminal.
 */
export async function run(
  dir: string,
  opts: ModelUploadOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const output = opts.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new CliUsageError(`--output must be text or json; got "${output}"`);
  const ids = await readIds(dir);
  const files = await folderFiles(dir);
  const total = files.reduce((sum, f) => sum + f.size, 0);

  const session = await openSession(env);
  try {
    const uploads = new ModelUploads(new V2Client(session.transport, session.pat));
    const { upload } = await uploads.start(ids, files);
    let sent = 0;
    try {
      for (const file of files) {
        const full = path.join(dir, ...file.path.split('/'));
        await withProgress(`uploading ${file.path} (${percent(sent, total)} of ${mib(total)})`, () =>
          uploads.putFile(ids.userId, upload.id, file.path, {
            bytes: file.size,
            open: () => createReadStream(full).pipe(countBytes((n) => (sent += n))),
          }),
        );
      }
    } catch (error) {
      await uploads.cancel(ids.userId, upload.id).catch(() => undefined);
      throw error;
    }
    const res = await withProgress('checking the model (loading its weights)', () =>
      uploads.commit(ids.userId, upload.id),
    );
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
      return;
    }
    const m = res.model;
    process.stdout.write(
      `Uploaded ${m.user_id}/${m.app_id}/${m.id} version ${m.model_version?.id ?? '?'} (${m.model_type_id}, ${files.length} files, ${mib(total)})\n` +
        `  clarifai model predict --model_url https://clarifai.com/${m.user_id}/${m.app_id}/models/${m.id} ...\n`,
    );
  } finally {
    await session.close();
  }
}

/** The model's ids from config.yaml, checked here so a typo is caught before anything is sent. */
async function readIds(dir: string): Promise<{ userId: string; appId: string; modelId: string }> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new CliUsageError(`model folder ${dir} does not exist`);
  if (!info.isDirectory())
    throw new CliUsageError(`${dir} is not a folder; give the folder that holds config.yaml`);
  const config = await readYamlMapping(path.join(dir, 'config.yaml'), { label: 'model config' });
  const model = config.model;
  if (typeof model !== 'object' || model === null || Array.isArray(model))
    throw new CliUsageError(
      `${path.join(dir, 'config.yaml')} needs a model: block with id, user_id, app_id and model_type_id`,
    );
  const m = model as Record<string, unknown>;
  const get = (key: string): string => {
    const value = m[key];
    if (typeof value !== 'string' || value === '')
      throw new CliUsageError(
        `${path.join(dir, 'config.yaml')}: model.${key} must be set (a non-empty string)`,
      );
    return value;
  };
  return { userId: get('user_id'), appId: get('app_id'), modelId: get('id') };
}

async function folderFiles(dir: string): Promise<{ path: string; size: number }[]> {
  let names: string[];
  try {
    names = await listFolderFiles(dir);
  } catch (error) {
    if (error instanceof SibylError) throw new CliUsageError(error.details ?? error.message);
    throw error;
  }
  return Promise.all(
    names.map(async (name) => ({ path: name, size: (await stat(path.join(dir, name))).size })),
  );
}

function countBytes(onChunk: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onChunk(chunk.length);
      done(null, chunk);
    },
  });
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

function percent(done: number, total: number): string {
  return total === 0 ? '100%' : `${Math.floor((100 * done) / total)}%`;
}
