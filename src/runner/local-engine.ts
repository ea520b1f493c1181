import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { listFolderFiles } from '../core/folder-files.js';
import { StatusCode } from '../core/status.js';
import { EmbeddedTransport } from '../embedded/index.js';
import { V2Client } from '../sdk/client.js';
import { ApiError, UsageError } from '../sdk/errors.js';
import { findModelFolders, uploadFolder, type FolderModel } from './model-folder.js';
import type { Json } from './proto.js';

/**
 * The runner's engine: Sibyl's server app in-process (the embedded transport), on the runner's own
 * data directory. A work item names the API server's user/app/model; the runner answers Clarifai's
 * built-ins (clarifai/main/...) as they are, and models of its `--models` folders by model id,
 * whoever owns them on the API. The answer is exactly what Sibyl's REST predict returns, errors
 * included (a v2 MultiOutputResponse with its status).
 */

export interface ModelId {
  userId: string;
  appId: string;
  modelId: string;
}

export interface LocalEngineOptions {
  dataDir: string;
  /** A folder of model folders (or one model folder), as `clarifai serve --models`. */
  modelsDir?: string;
  /** Models to load at start; the first built-in among them starts loading with the engine. */
  preload?: ModelId[];
  /** Worker threads that run models (default: one per core). */
  workers?: number;
}

const BUILTIN_OWNER = { userId: 'clarifai', appId: 'main' };

export class LocalEngine {
  private constructor(
    private readonly transport: EmbeddedTransport,
    private readonly folders: FolderModel[],
  ) {}

  static async open(opts: LocalEngineOptions): Promise<LocalEngine> {
    const folders = opts.modelsDir ? await findModelFolders(opts.modelsDir) : [];
    const builtin = opts.preload?.find(
      (m) => m.userId === BUILTIN_OWNER.userId && m.appId === BUILTIN_OWNER.appId,
    );
    // a long-lived process: warming a model up once is worth it
    const transport = await EmbeddedTransport.open({
      dataDir: opts.dataDir,
      warmUp: true,
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(builtin ? { preload: builtin } : {}),
    });
    try {
      const client = new V2Client(transport);
      await syncFolders(client, opts.dataDir, folders);
      for (const m of opts.preload ?? []) {
        await client.getModel(m).catch((err: unknown) => {
          throw new UsageError(
            `--preload ${m.userId}/${m.appId}/${m.modelId}: ${err instanceof ApiError ? err.description : String(err)}`,
          );
        });
      }
      return new LocalEngine(transport, folders);
    } catch (err) {
      await transport.close();
      throw err;
    }
  }

  /** The model ids of its folders, for the runner's metadata and for messages. */
  get folderModelIds(): string[] {
    return this.folders.map((f) => f.modelId);
  }

  /** Every model id it answers: the built-ins' ids (as clarifai/main/ID) and its folders'. */
  async modelIds(): Promise<string[]> {
    const res = await this.transport.request({
      method: 'GET',
      path: '/v2/users/clarifai/apps/main/models?per_page=1000',
      headers: {},
    });
    const models = ((res.body as { models?: { id: string }[] } | undefined)?.models ?? []).map(
      (m) => `clarifai/main/${m.id}`,
    );
    return [...models, ...this.folderModelIds];
  }

  /** What it serves, in words: "clarifai/main built-ins and the models a, b". */
  describe(): string {
    const ids = this.folderModelIds;
    return `the built-in models (clarifai/main/...)${ids.length > 0 ? ` and the models ${ids.join(', ')}` : ''}`;
  }

  /**
   * Runs a PostModelOutputsRequest (v2 JSON) and returns the MultiOutputResponse Sibyl's REST
   * answers for it. A generate request (a streaming method) is answered whole, in one response.
   */
  async predict(request: Json): Promise<Json> {
    const ids = (request.user_app_id ?? {}) as { user_id?: string; app_id?: string };
    const modelId = typeof request.model_id === 'string' ? request.model_id : '';
    const target = this.route(ids.user_id ?? '', ids.app_id ?? '', modelId);
    if (!target) {
      return {
        status: {
          code: StatusCode.MODEL_DOES_NOT_EXIST,
          description: 'Model does not exist',
          details: `this runner does not serve the model ${ids.user_id}/${ids.app_id}/${modelId}; it serves ${this.describe()}`,
        },
        outputs: [],
      };
    }
    // The API's version id names its own registry's version: the runner answers with the version it
    // has (a built-in's, or its folder's), so the path leaves the version out.
    const url = `/v2/users/${enc(target.userId)}/apps/${enc(target.appId)}/models/${enc(target.modelId)}/outputs`;
    const body: Json = { inputs: request.inputs ?? [] };
    if (request.model !== undefined) body.model = request.model;
    const res = await this.transport.request({ method: 'POST', path: url, headers: {}, body });
    if (res.body && typeof res.body === 'object') return res.body as Json;
    return {
      status: {
        code: StatusCode.INTERNAL_ERROR,
        description: 'Internal error',
        details: `the runner's engine answered HTTP ${res.status} without a v2 response`,
      },
    };
  }

  private route(userId: string, appId: string, modelId: string): ModelId | undefined {
    if (userId === BUILTIN_OWNER.userId && appId === BUILTIN_OWNER.appId)
      return { ...BUILTIN_OWNER, modelId };
    const folder = this.folders.find((f) => f.modelId === modelId);
    return folder && { userId: folder.userId, appId: folder.appId, modelId: folder.modelId };
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/**
 * Puts each folder's model into the runner's data directory, uploading it only when its files
 * changed since the last start (a fingerprint of names, sizes and times is kept in the directory),
 * so a restart with the same folders costs nothing.
 */
async function syncFolders(client: V2Client, dataDir: string, folders: FolderModel[]): Promise<void> {
  if (folders.length === 0) return;
  const file = path.join(dataDir, 'runner-folders.json');
  const known = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, string>;
  for (const folder of folders) {
    const print = await fingerprint(folder.folder);
    const current =
      known[folder.folder] === print &&
      (await client.getModel(folder).then(
        () => true,
        () => false,
      ));
    if (current) continue;
    await uploadFolder(client, folder);
    known[folder.folder] = print;
    await writeFile(file, JSON.stringify(known, null, 2));
  }
}

async function fingerprint(folder: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of await listFolderFiles(folder)) {
    const st = await stat(path.join(folder, name));
    hash.update(`${name}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest('hex');
}
