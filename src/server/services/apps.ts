import { InvalidArgumentError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { Visibility } from '../../core/wire.js';
import type { AppRecord, AppVisibility } from '../../store/index.js';
import { actsFor, appNotFound, ownerFor } from './access.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';

/** Clarifai's App, as far as Sibyl keeps one. */
export interface WireApp {
  id: string;
  user_id: string;
  created_at: string;
  description?: string;
  visibility: { gettable: number };
}

function toWireApp(app: AppRecord): WireApp {
  const wire: WireApp = {
    id: app.id,
    user_id: app.userId,
    created_at: app.createdAt,
    visibility: { gettable: app.visibility === 'public' ? Visibility.PUBLIC : Visibility.PRIVATE },
  };
  if (app.description) wire.description = app.description;
  return wire;
}

type Reply = { status: ReturnType<typeof ok>; apps: WireApp[] };

/** `visibility.gettable` (a number or the enum's name) as private/public; undefined when absent. */
export function visibilityOf(v: unknown): AppVisibility | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const g = (v as { gettable?: unknown }).gettable;
  if (g === undefined || g === 0 || g === 'UNKNOWN_VISIBILITY') return undefined;
  if (g === Visibility.PUBLIC || g === 'PUBLIC') return 'public';
  if (g === Visibility.PRIVATE || g === 'PRIVATE') return 'private';
  throw new InvalidArgumentError(
    `visibility.gettable must be ${Visibility.PRIVATE} (PRIVATE) or ${Visibility.PUBLIC} (PUBLIC)`,
  );
}

/**
 * GET /v2/users/{user_id}/apps/{app_id}: the caller's own apps, public apps, and any app that holds
 * a public model (so `clarifai/main`, home of the built-in models, can be read like on Clarifai).
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
  if (app.visibility === 'public' || (await actsFor(ctx, caller, owner))) {
    return { status: ok(reqId), app: toWireApp(app) };
  }
  const visible = await ctx.store.models.listVisible(caller.userId, { userId: owner, appId, perPage: 1 });
  if (visible.length === 0) throw appNotFound(userId, appId);
  return { status: ok(reqId), app: { ...toWireApp(app), visibility: { gettable: Visibility.PUBLIC } } };
}

/** GET /v2/users/{user_id}/apps: all of one's own apps (an admin: anyone's), another user's public ones. */
export async function listApps(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  filter: { page: number; perPage: number; name?: string; id?: string },
  reqId: string,
): Promise<Reply> {
  const owner = userId === 'me' ? caller.userId : userId;
  const publicOnly = !(await actsFor(ctx, caller, owner));
  let apps = await ctx.store.apps.list(owner, { publicOnly });
  const needle = (filter.name ?? filter.id)?.toLowerCase();
  if (needle) apps = apps.filter((a) => a.id.toLowerCase().includes(needle));
  const start = (filter.page - 1) * filter.perPage;
  return { status: ok(reqId), apps: apps.slice(start, start + filter.perPage).map(toWireApp) };
}

/** POST /v2/users/{user_id}/apps: creates apps (private unless `visibility.gettable` is PUBLIC). */
export async function postApps(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  apps: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  if (apps.length === 0) throw new InvalidArgumentError('"apps" must list at least one app');
  const specs = apps.map((a) => {
    if (typeof a.id !== 'string' || !isValidId(a.id)) {
      throw new InvalidArgumentError(
        `app id ${JSON.stringify(a.id)} is not valid: use letters, digits, "_", "-" or "."`,
      );
    }
    const visibility = visibilityOf(a.visibility);
    return {
      id: a.id,
      ...(visibility ? { visibility } : {}),
      ...(typeof a.description === 'string' ? { description: a.description } : {}),
    };
  });
  const out: WireApp[] = [];
  for (const spec of specs) out.push(toWireApp(await ctx.store.apps.create(owner, spec)));
  return { status: ok(reqId), apps: out };
}

/** PATCH /v2/users/{user_id}/apps: changes visibility and description of one's apps. */
export async function patchApps(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  apps: Record<string, unknown>[],
  reqId: string,
): Promise<Reply> {
  const owner = await ownerFor(ctx, caller, userId);
  const out: WireApp[] = [];
  for (const a of apps) {
    const id = typeof a.id === 'string' ? a.id : '';
    const visibility = visibilityOf(a.visibility);
    const found = await ctx.store.apps.patch(owner, id, {
      ...(visibility ? { visibility } : {}),
      ...(typeof a.description === 'string' ? { description: a.description } : {}),
    });
    if (!found) throw appNotFound(userId, id);
    out.push(toWireApp((await ctx.store.apps.get(owner, id))!));
  }
  return { status: ok(reqId), apps: out };
}

/** DELETE /v2/users/{user_id}/apps/{app_id}: the app with its models and inputs. */
export async function deleteApp(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  reqId: string,
): Promise<{ status: ReturnType<typeof ok> }> {
  const owner = await ownerFor(ctx, caller, userId);
  const models = await ctx.store.models.listVisible(owner, { userId: owner, appId, perPage: 1000 });
  if (models.some((m) => m.builtin)) {
    throw new InvalidArgumentError(
      `app ${owner}/${appId} holds models the server manages and cannot be deleted`,
    );
  }
  if (!(await ctx.store.apps.delete(owner, appId))) throw appNotFound(userId, appId);
  return { status: ok(reqId) };
}
