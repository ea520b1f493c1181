import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, LimitError, NotFoundError, SibylError } from '../../core/errors.js';
import { isValidId, newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { SingleModelResponse } from '../../core/wire.js';
import { readFolderVisibility, readModelFolder, REMOTE_RUNTIME_KINDS } from '../../engine/index.js';
import { writeFileAtomic } from '../atomic-file.js';
import { outputInfoOf, storedSpec } from '../output-info.js';
import { requireAdmin } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { toWireModel } from './models.js';
import { ok } from './reply.js';
import { isObject } from './request-shape.js';

/**
 * `clarifai model upload`: a model folder travels as one upload with several files. Start names
 * the model and lists the files with their sizes (so limits are checked before a byte moves);
 * each file is then PUT as a raw stream straight to disk (never buffered whole); commit checks
 * the folder with its runtime in a worker (weights load, shapes match) and only then makes it a
 * new model version. Upload state lives in the staging folder itself (upload.json), so it
 * survives a restart and any API process on the same data directory can finish it.
 */

export interface UploadFile {
  path: string;
  size: number;
}

interface UploadState {
  id: string;
  /** Who started it: only they may add files or commit. */
  callerId: string;
  userId: string;
  appId: string;
  modelId: string;
  files: UploadFile[];
  createdAt: string;
}

const STATE_FILE = 'upload.json';
const FILES_DIR = 'files';
/** Uploads not committed within a day are removed when the server next starts. */
export const STALE_UPLOAD_MS = 24 * 3600_000;
const MAX_FILES = 1000;

function uploadsDir(ctx: ServiceContext): string {
  if (!ctx.dataDir)
    throw new SibylError(
      StatusCode.INTERNAL_ERROR,
      'Internal error',
      'this server has no data directory for uploads',
    );
  return path.join(ctx.dataDir, 'uploads');
}

/** Version files live here, relative to the data directory (so the directory can move). */
export function versionFilesDir(versionId: string): string {
  return path.join('models', versionId);
}

function bad(details: string): InvalidArgumentError {
  return new InvalidArgumentError(details, StatusCode.MODEL_INVALID_ARGUMENT);
}

/** A file's path inside the folder: relative, `/`-separated, no `..`, no dotfiles, no NULs. */
function checkFilePath(p: unknown, where: string): string {
  if (typeof p !== 'string' || p === '') throw bad(`${where} must be a non-empty relative path`);
  const parts = p.split('/');
  if (
    p.length > 1024 ||
    p.includes('\\') ||
    p.includes('\0') ||
    parts.some((part) => part === '' || part === '.' || part === '..' || part.startsWith('.'))
  ) {
    throw bad(
      `${where} is ${JSON.stringify(p)}; give a relative path like "weights/model.onnx" (no "..", no dotfiles)`,
    );
  }
  return p;
}

/** POST /v2/users/{user}/apps/{app}/models/{model}/uploads {files: [{path, size}]} */
export async function startUpload(
  ctx: ServiceContext,
  caller: Caller,
  target: { userId: string; appId: string; modelId: string },
  body: unknown,
  reqId: string,
): Promise<{
  status: ReturnType<typeof ok>;
  upload: { id: string; files: UploadFile[]; max_bytes: number };
}> {
  await checkMayWrite(ctx, caller, target.userId);
  for (const [kind, id] of [
    ['app', target.appId],
    ['model', target.modelId],
  ] as const) {
    if (!isValidId(id))
      throw bad(`invalid ${kind} id ${JSON.stringify(id)}: use letters, digits, _ - . (at most 128)`);
  }
  const list = isObject(body) ? body.files : undefined;
  if (!Array.isArray(list) || list.length === 0)
    throw bad('"files" must list the folder\'s files as [{path, size}]');
  if (list.length > MAX_FILES)
    throw bad(`"files" lists ${list.length} files; at most ${MAX_FILES} may be uploaded`);
  const seen = new Set<string>();
  const files = list.map((f, i): UploadFile => {
    if (!isObject(f)) throw bad(`files[${i}] must be an object {path, size}`);
    const p = checkFilePath(f.path, `files[${i}].path`);
    const size = Number(f.size);
    if (!Number.isSafeInteger(size) || size < 0)
      throw bad(`files[${i}].size must be a whole number of bytes`);
    if (seen.has(p)) throw bad(`files[${i}].path ${p} is listed twice`);
    seen.add(p);
    return { path: p, size };
  });
  if (!seen.has('config.yaml'))
    throw bad('the folder has no config.yaml; a model folder needs one (see README: Model folders)');
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const limit = ctx.options.maxUploadBytes;
  if (total > limit) {
    throw new LimitError(
      StatusCode.INPUT_OVER_LIMIT,
      'Upload too large',
      `the folder holds ${formatBytes(total)}; this server takes model uploads of at most ${formatBytes(limit)}`,
    );
  }
  const state: UploadState = {
    id: newId(),
    callerId: caller.userId,
    ...target,
    files,
    createdAt: new Date().toISOString(),
  };
  const dir = path.join(uploadsDir(ctx), state.id);
  await mkdir(path.join(dir, FILES_DIR), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path.join(dir, STATE_FILE), JSON.stringify(state), 0o600);
  return { status: ok(reqId), upload: { id: state.id, files, max_bytes: limit } };
}

/** PUT /v2/users/{user}/uploads/{upload}/files/{path}: the file's bytes, streamed to disk. */
export async function putUploadFile(
  ctx: ServiceContext,
  caller: Caller,
  uploadId: string,
  filePath: string,
  body: Readable,
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; file: UploadFile }> {
  const { state, dir } = await loadUpload(ctx, caller, uploadId);
  const rel = checkFilePath(filePath, 'the file path');
  const declared = state.files.find((f) => f.path === rel);
  if (!declared)
    throw bad(
      `${rel} is not one of this upload's files; it declared: ${state.files.map((f) => f.path).join(', ')}`,
    );
  const target = path.join(dir, FILES_DIR, ...rel.split('/'));
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const partial = `${target}.part`;
  let received = 0;
  // Counted as it streams: a body longer than declared is cut off at once, not after it is stored.
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (received > declared.size) {
        done(
          new LimitError(
            StatusCode.INPUT_OVER_LIMIT,
            'Upload too large',
            `${rel} is larger than the ${declared.size} bytes declared when the upload started`,
          ),
        );
      } else done(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, createWriteStream(partial, { mode: 0o600 }));
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof SibylError) throw error;
    throw bad(
      `${rel} did not arrive whole (${error instanceof Error ? error.message : String(error)}); send it again`,
    );
  }
  if (received !== declared.size) {
    await rm(partial, { force: true });
    throw bad(`${rel} arrived with ${received} bytes; ${declared.size} were declared. Send it again`);
  }
  await rename(partial, target);
  return { status: ok(reqId), file: { path: rel, size: received } };
}

/** POST /v2/users/{user}/uploads/{upload}/commit: validate the folder and add the version. */
export async function commitUpload(
  ctx: ServiceContext,
  caller: Caller,
  uploadId: string,
  reqId: string,
): Promise<SingleModelResponse> {
  const { state, dir } = await loadUpload(ctx, caller, uploadId);
  const folder = path.join(dir, FILES_DIR);
  for (const file of state.files) {
    const size = await stat(path.join(folder, ...file.path.split('/'))).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== file.size)
      throw bad(`${file.path} has not been uploaded yet; send every file before committing`);
  }
  const versionId = newId();
  const read = await readModelFolder(folder, versionId);
  if (read.userId !== state.userId || read.appId !== state.appId || read.id !== state.modelId) {
    throw bad(
      `config.yaml names the model ${read.userId}/${read.appId}/${read.id}, but the upload was started for ` +
        `${state.userId}/${state.appId}/${state.modelId}`,
    );
  }
  // a model on a remote engine makes this server call it with a key from its own environment
  if (REMOTE_RUNTIME_KINDS.has(read.runtime.kind))
    await requireAdmin(ctx, caller, `uploading a model with runtime "${read.runtime.kind}"`);
  // Loads the weights in a worker: a folder that cannot run is refused now, not at first predict.
  const spec = await ctx.engine.validate(read);
  const visibility = await readFolderVisibility(folder);
  const files = versionFilesDir(versionId);
  await mkdir(path.join(ctx.dataDir!, 'models'), { recursive: true, mode: 0o700 });
  await rename(folder, path.join(ctx.dataDir!, files));
  try {
    const { model, version } = await ctx.store.models.addVersionCreating({
      userId: state.userId,
      appId: state.appId,
      id: state.modelId,
      name: spec.name,
      modelTypeId: spec.modelTypeId,
      description: spec.description,
      visibility,
      versionId,
      outputInfo: outputInfoOf(spec),
      spec: storedSpec(spec),
      files,
    });
    await rm(dir, { recursive: true, force: true });
    return { status: ok(reqId), model: toWireModel(model, version) };
  } catch (error) {
    // the version was not recorded: its files go back to the upload, which may be retried
    await rename(path.join(ctx.dataDir!, files), folder).catch(() => undefined);
    throw error;
  }
}

/** DELETE /v2/users/{user}/uploads/{upload} */
export async function cancelUpload(ctx: ServiceContext, caller: Caller, uploadId: string, reqId: string) {
  const { dir } = await loadUpload(ctx, caller, uploadId);
  await rm(dir, { recursive: true, force: true });
  return { status: ok(reqId) };
}

/** Removes uploads nobody committed within a day (run at start-up). */
export async function removeStaleUploads(dataDir: string, now = Date.now()): Promise<number> {
  const dir = path.join(dataDir, 'uploads');
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_UPLOAD_MS) {
      await rm(path.join(dir, name), { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}

async function loadUpload(
  ctx: ServiceContext,
  caller: Caller,
  uploadId: string,
): Promise<{ state: UploadState; dir: string }> {
  const missing = () =>
    new NotFoundError(
      StatusCode.CONN_DOES_NOT_EXIST,
      'Upload does not exist',
      `no upload ${uploadId} (it was committed, cancelled or never started)`,
    );
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw missing();
  const dir = path.join(uploadsDir(ctx), uploadId);
  const text = await readFile(path.join(dir, STATE_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) throw missing();
  const state = JSON.parse(text) as UploadState;
  // someone else's upload reads exactly like a missing one
  if (state.callerId !== caller.userId) throw missing();
  return { state, dir };
}

/** A key may upload into its own user's apps; an admin into any user's (created if needed). */
async function checkMayWrite(ctx: ServiceContext, caller: Caller, userId: string): Promise<void> {
  if (!isValidId(userId)) throw bad(`invalid user id ${JSON.stringify(userId)}`);
  if (caller.userId === userId) return;
  const me = await ctx.store.users.get(caller.userId);
  if (!me?.isAdmin) {
    throw new SibylError(
      StatusCode.CONN_INSUFFICIENT_SCOPES,
      'Insufficient scopes',
      `your key belongs to user ${caller.userId} and may upload models only there, not to user ${userId}`,
    );
  }
  await ctx.store.users.ensure({ id: userId });
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
