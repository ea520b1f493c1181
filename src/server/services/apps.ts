import { NotFoundError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { Visibility } from '../../core/wire.js';
import type { AppRecord } from '../../store/index.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { ownUserId } from './users.js';

/** Clarifai's App, as far as Sibyl keeps one. */
export interface WireApp {
  id: string;
  user_id: string;
  created_at: string;
  visibility: { gettable: number };
}

function toWireApp(app: AppRecord, isPublic: boolean): WireApp {
  return {
    id: app.id,
    user_id: app.userId,
    created_at: app.createdAt,
    visibility: { gettable: isPublic ? Visibility.PUBLIC : Visibility.PRIVATE },
  };
}

function appNotFound(userId: string, appId: string): NotFoundError {
  return new NotFoundError(
    StatusCode.APP_DOES_NOT_EXIST,
    'App does not exist',
    `no app "${appId}" of user "${userId}" for this key`,
  );
}

/**
 * GET /v2/users/{user_id}/apps/{app_id}: the caller's own apps, and any app that holds a public
 * model (so `clarifai/main`, home of the built-in models, can be read like on Clarifai).
 */
export async function getApp(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; app: WireApp }> {
  const owner = userId === 'me' ? caller.userId : userId;
  const app = await ctx.store.apps.get(owner, appId);
  if (!app) throw appNotFound(userId, appId);
  if (owner === caller.userId) return { status: ok(reqId), app: toWireApp(app, false) };
  const visible = await ctx.store.models.listVisible(caller.userId, { userId: owner, appId, perPage: 1 });
  if (visible.length === 0) throw appNotFound(userId, appId);
  return { status: ok(reqId), app: toWireApp(app, true) };
}

/** GET /v2/users/{user_id}/apps: the caller's own apps, by id, paged. */
export async function listApps(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  filter: { page: number; perPage: number; name?: string; id?: string },
  reqId: string,
): Promise<{ status: ReturnType<typeof ok>; apps: WireApp[] }> {
  const owner = ownUserId(caller, userId);
  let apps = await ctx.store.apps.list(owner);
  const needle = (filter.name ?? filter.id)?.toLowerCase();
  if (needle) apps = apps.filter((a) => a.id.toLowerCase().includes(needle));
  const start = (filter.page - 1) * filter.perPage;
  return {
    status: ok(reqId),
    apps: apps.slice(start, start + filter.perPage).map((a) => toWireApp(a, false)),
  };
}
