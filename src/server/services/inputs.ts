import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { Input, MultiInputResponse, SingleInputResponse } from '../../core/wire.js';
import type { InputRecord } from '../../store/index.js';
import type { Caller, ServiceContext } from './context.js';
import { ok } from './reply.js';
import { parseInputs } from './request-shape.js';
import { ownerFor, readableApp } from './access.js';

/**
 * Stored input data one page of a list may carry. The answer is built as one JSON string, which
 * V8 caps at 512 MiB, and is held several times over while it is read, parsed and written.
 */
export const MAX_INPUT_PAGE_BYTES = 256 * 1024 * 1024;

/** POST /v2/users/{user_id}/apps/{app_id}/inputs: stores inputs in the caller's own app. */
export async function postInputs(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  body: unknown,
  reqId: string,
): Promise<MultiInputResponse> {
  const owner = await ownerFor(ctx, caller, userId);
  checkAppId(appId);
  const inputs = parseInputs(body);
  inputs.forEach(({ input }, i) => {
    if (input.id !== undefined && !isValidId(input.id)) {
      throw new InvalidArgumentError(
        `inputs[${i}].id "${input.id}" is not a valid id: use letters, digits, "_", "-" or ".", at most 128 characters`,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    }
  });
  await ctx.store.apps.ensure(owner, appId);
  const records = await ctx.store.inputs.createMany(
    owner,
    appId,
    inputs.map(({ input }) => (input.id ? { id: input.id, data: input.data } : { data: input.data })),
  );
  return { status: ok(reqId), inputs: records.map(toWireInput) };
}

export async function getInput(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  inputId: string,
  reqId: string,
): Promise<SingleInputResponse> {
  const rec = await readableApp(ctx, caller, userId, appId).then(
    ({ app }) => ctx.store.inputs.get(app.userId, appId, inputId),
    () => undefined, // an app the caller may not read: its inputs read as missing
  );
  if (!rec) {
    throw new NotFoundError(
      StatusCode.INPUT_DOES_NOT_EXIST,
      'Input does not exist',
      `no input "${inputId}" in app "${appId}"`,
    );
  }
  return { status: ok(reqId), input: toWireInput(rec) };
}

export async function listInputs(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  page: { page: number; perPage: number },
  reqId: string,
): Promise<MultiInputResponse> {
  const { app } = await readableApp(ctx, caller, userId, appId);
  const recs = await ctx.store.inputs.list(app.userId, appId, page, MAX_INPUT_PAGE_BYTES);
  return { status: ok(reqId), inputs: recs.map(toWireInput) };
}

/** PATCH .../inputs: changes the data of one's inputs (`action` merge, the default, or overwrite). */
export async function patchInputs(
  ctx: ServiceContext,
  caller: Caller,
  userId: string,
  appId: string,
  inputs: Record<string, unknown>[],
  action: string,
  reqId: string,
): Promise<MultiInputResponse> {
  const owner = await ownerFor(ctx, caller, userId);
  if (action !== '' && action !== 'merge' && action !== 'overwrite') {
    throw new InvalidArgumentError(
      `action must be merge or overwrite; got "${action}"`,
      StatusCode.INPUT_INVALID_ARGUMENT,
    );
  }
  if (inputs.length === 0) throw new InvalidArgumentError('"inputs" must list at least one input');
  const out: Input[] = [];
  for (const i of inputs) {
    const id = typeof i.id === 'string' ? i.id : '';
    const data = i.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new InvalidArgumentError(
        `input "${id}" needs a "data" object`,
        StatusCode.INPUT_INVALID_ARGUMENT,
      );
    }
    const rec = await ctx.store.inputs.patch(
      owner,
      appId,
      id,
      data,
      action === 'overwrite' ? 'overwrite' : 'merge',
    );
    if (!rec) {
      throw new NotFoundError(
        StatusCode.INPUT_DOES_NOT_EXIST,
        'Input does not exist',
        `no input "${id}" in app "${appId}"`,
      );
    }
    out.push(toWireInput(rec));
  }
  return { status: ok(reqId), inputs: out };
}

function checkAppId(appId: string): void {
  if (!isValidId(appId)) {
    throw new InvalidArgumentError(`app id "${appId}" is not valid: use letters, digits, "_", "-" or "."`);
  }
}

function toWireInput(rec: InputRecord): Input {
  return {
    id: rec.id,
    data: rec.data,
    created_at: rec.createdAt,
    status: { code: StatusCode.INPUT_DOWNLOAD_SUCCESS, description: 'Download complete' },
  };
}
