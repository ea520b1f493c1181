import type { Status } from '../../core/wire.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';

export interface EngineStatusResponse {
  status: Status;
  engine: {
    workers: number;
    max_workers: number;
    memory_budget_bytes: number;
    loaded: {
      user_id: string;
      app_id: string;
      model_id: string;
      version_id: string;
      workers: number;
      bytes: number;
    }[];
    /** Per model version with work: inputs waiting and running (generations included). */
    queued: {
      user_id: string;
      app_id: string;
      model_id: string;
      version_id: string;
      waiting: number;
      running: number;
    }[];
  };
}

/**
 * GET /v2/sibyl/engine: worker threads and which model versions are loaded (Sibyl's own route;
 * `clarifai model list` shows it). Only models the caller may see are listed.
 */
export async function engineStatus(
  ctx: ServiceContext,
  caller: Caller,
  reqId: string,
): Promise<EngineStatusResponse> {
  const status = ctx.engine.status();
  const loaded: EngineStatusResponse['engine']['loaded'] = [];
  for (const m of status.loaded) {
    const { userId, appId, id, versionId } = m.spec;
    if (!(await ctx.store.models.getVisible(caller.userId, userId, appId, id))) continue;
    loaded.push({
      user_id: userId,
      app_id: appId,
      model_id: id,
      version_id: versionId,
      workers: m.workers,
      bytes: m.bytes,
    });
  }
  const queued: EngineStatusResponse['engine']['queued'] = [];
  for (const q of status.queued) {
    if (q.inputs === 0 && q.running === 0) continue;
    const { userId, appId, id, versionId } = q.spec;
    if (!(await ctx.store.models.getVisible(caller.userId, userId, appId, id))) continue;
    queued.push({
      user_id: userId,
      app_id: appId,
      model_id: id,
      version_id: versionId,
      waiting: q.inputs,
      running: q.running,
    });
  }
  return {
    status: ok(reqId),
    engine: {
      workers: status.workers,
      max_workers: status.maxWorkers,
      memory_budget_bytes: status.memoryBudgetBytes,
      loaded,
      queued,
    },
  };
}
