import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { OutputInfo } from '../../core/wire.js';
import type { ModelsTable, ModelVersionsTable } from '../schema.js';
import { parseJson, type PageOptions } from './common.js';

/** The record shapes of models and versions, and the row <-> record mapping. */

export type Visibility = 'private' | 'public';

/** Clarifai's MODEL_TRAINED: the version is ready to predict. */
export const VERSION_READY = StatusCode.MODEL_TRAINED;

export interface ModelRecord {
  userId: string;
  appId: string;
  id: string;
  name: string;
  modelTypeId: string;
  description: string;
  visibility: Visibility;
  builtin: boolean;
  metadata: Record<string, unknown>;
  createdAt: string;
  modifiedAt: string;
}

export interface ModelVersionRecord {
  id: string;
  userId: string;
  appId: string;
  modelId: string;
  /** 1 for a model's first version, then 2, 3...: the latest version has the highest. */
  seq: number;
  outputInfo: OutputInfo;
  /** v2 status code of the version (VERSION_READY unless said otherwise). */
  status: number;
  createdAt: string;
  /** The engine's spec for this version (opaque to the store); absent when no engine can run it. */
  spec?: Record<string, unknown>;
  /** Where its files are: relative to the data directory, or absolute; absent for built-ins. */
  files?: string;
}

export interface BuiltinModelSpec {
  userId: string;
  appId: string;
  id: string;
  name: string;
  modelTypeId: string;
  description: string;
  /** Fixed per release of the model, so restarts find the same version. */
  versionId: string;
  outputInfo: OutputInfo;
  visibility?: Visibility;
  metadata?: Record<string, unknown>;
  /** The engine's spec, stored with the version and updated in place when it changes. */
  spec?: Record<string, unknown>;
  files?: string;
  /** False for models a server loads from a folder it was given: still managed by the server. */
  builtin?: boolean;
}

export interface NewModel {
  userId: string;
  appId: string;
  id: string;
  name?: string;
  modelTypeId: string;
  description?: string;
  /** Default 'private'. */
  visibility?: Visibility;
  metadata?: Record<string, unknown>;
  /** First version: id generated when absent. */
  versionId?: string;
  outputInfo?: OutputInfo;
}

export interface NewModelVersion {
  id?: string;
  outputInfo?: OutputInfo;
  status?: number;
  spec?: Record<string, unknown>;
  files?: string;
}

export interface ModelWithVersion {
  model: ModelRecord;
  version: ModelVersionRecord;
}

export interface ModelListFilter extends PageOptions {
  userId?: string;
  appId?: string;
}

export function toModelRecord(row: ModelsTable): ModelRecord {
  return {
    userId: row.user_id,
    appId: row.app_id,
    id: row.id,
    name: row.name,
    modelTypeId: row.model_type_id,
    description: row.description,
    visibility: row.visibility === 'public' ? 'public' : 'private',
    builtin: row.builtin === 1,
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

export function toVersionRecord(row: ModelVersionsTable): ModelVersionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    appId: row.app_id,
    modelId: row.model_id,
    seq: Number(row.seq),
    outputInfo: parseJson<OutputInfo>(row.output_info, {}),
    status: Number(row.status),
    createdAt: row.created_at,
    ...(row.spec ? { spec: parseJson<Record<string, unknown>>(row.spec, {}) } : {}),
    ...(row.files ? { files: row.files } : {}),
  };
}

export function checkId(kind: string, id: string): void {
  if (!isValidId(id)) {
    throw new InvalidArgumentError(
      `invalid ${kind} id: ${JSON.stringify(id)}`,
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
}

export function checkVisibility(visibility: string): asserts visibility is Visibility {
  if (visibility !== 'private' && visibility !== 'public') {
    throw new InvalidArgumentError(
      `visibility must be 'private' or 'public', not ${JSON.stringify(visibility)}`,
      StatusCode.MODEL_INVALID_ARGUMENT,
    );
  }
}
