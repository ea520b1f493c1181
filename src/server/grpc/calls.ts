import { PredictionError, SibylError } from '../../core/errors.js';
import { StatusCode } from '../../core/status.js';
import { toErrorReply } from '../errors.js';
import type { RequestRecord } from '../metrics.js';
import type { Canonical } from '../proto/json.js';
import { V2_SERVICE } from '../proto/schema.js';
import { authenticate } from '../services/auth.js';
import { checkJsonLimits } from '../services/json-limits.js';
import type { Caller, ServiceContext } from '../services/context.js';
import { isMessageStream, rpcHandler } from '../services/v2-rpcs.js';

/**
 * One call of a V2 RPC by its proto name, as every protobuf transport (gRPC, gRPC-web) makes it:
 * authenticate, decode, run the service, and turn any error into the response's `status`. As on
 * Clarifai's API the transport's own status stays OK and the outcome is this v2 `status`, so a
 * wrong key answers CONN_KEY_INVALID at once instead of a transport error that clients retry.
 * This file imports neither grpc-js nor fastify: both transports share it.
 */

export interface RpcCallOptions {
  /** Requests without any key act as this user (the embedded app only; never on a port). */
  localUserId?: string;
  logRequest?: (line: string) => void;
  /** The same call as a record, for metrics and the JSON request log (see metrics.ts). */
  observe?: (rec: RequestRecord) => void;
  logError?: (err: unknown, reqId: string) => void;
}

/** What a call carries besides its message. */
export interface RpcCall {
  /** The RPC's name in service.proto, e.g. `PostModelOutputs`. */
  method: string;
  /** The `authorization` metadata (`Key <PAT>`). */
  authorization: string | undefined;
  /**
   * The `x-clarifai-session-token` metadata: clarifai-web-grpc's README passes the key there,
   * bare, so it is taken as the key when no `authorization` is sent.
   */
  sessionToken?: string | undefined;
  reqId: string;
  signal: AbortSignal;
  /** Which transport, for the request log (`GRPC`, `GRPC-WEB`). */
  transport: string;
}

/** A unary call: its one answer (see runRpcStream). */
export async function runRpc(
  ctx: ServiceContext,
  call: RpcCall,
  decode: () => Canonical,
  opts: RpcCallOptions = {},
): Promise<Canonical> {
  for await (const message of runRpcStream(ctx, call, decode, opts)) return message;
  throw new Error(`${call.method} answered nothing`);
}

/**
 * A call whose answer may be a stream (GenerateModelOutputs): each message as the service yields
 * it; an unary RPC yields its one answer. Stopping the loop early (the client went away) stops the
 * service's stream too. The request is logged once, when the answer is over.
 */
export async function* runRpcStream(
  ctx: ServiceContext,
  call: RpcCall,
  decode: () => Canonical,
  opts: RpcCallOptions = {},
): AsyncGenerator<Canonical, void, undefined> {
  const started = performance.now();
  let code = 0;
  let userId: string | undefined;
  const failed = (err: unknown): Canonical => {
    if (!(err instanceof SibylError) || err instanceof PredictionError) {
      (opts.logError ?? ((e, id) => console.error(`[${id}]`, e)))(err, call.reqId);
    }
    return { status: toErrorReply(err, call.reqId).status };
  };
  const codeOf = (m: Canonical) => (m.status as { code?: number } | undefined)?.code ?? 0;
  try {
    let result: object;
    try {
      const caller = await callerOf(ctx, call, opts.localUserId);
      userId = caller.userId;
      const handler = rpcHandler(call.method);
      if (!handler) {
        throw new SibylError(
          StatusCode.NOT_IMPLEMENTED,
          'Not implemented',
          `this Sibyl server does not implement ${V2_SERVICE}/${call.method}`,
        );
      }
      const message = decode();
      // the same depth and size limits as a REST body: a protobuf Struct (params, metadata) can
      // nest as deep as JSON, and the services walk it
      checkJsonLimits(message);
      result = await handler(ctx, caller, message, call.reqId, call.signal);
    } catch (err) {
      result = failed(err);
    }
    if (!isMessageStream(result)) {
      code = codeOf(result as Canonical);
      yield result as Canonical;
      return;
    }
    try {
      for await (const message of result) {
        code = codeOf(message as Canonical);
        yield message as Canonical;
      }
    } catch (err) {
      const message = failed(err);
      code = codeOf(message);
      yield message;
    }
  } finally {
    const elapsed = performance.now() - started;
    if (opts.logRequest) {
      const ms = elapsed.toFixed(1);
      opts.logRequest(
        `${new Date().toISOString()} ${call.transport} /${V2_SERVICE}/${call.method} ${code} ${ms}ms req_id=${call.reqId}`,
      );
    }
    // the route is the RPC's name: both transports call here only for methods service.proto has
    opts.observe?.({
      transport: call.transport === 'GRPC-WEB' ? 'grpc-web' : 'grpc',
      method: 'POST',
      route: call.method,
      path: `/${V2_SERVICE}/${call.method}`,
      status: 200,
      code,
      ms: elapsed,
      reqId: call.reqId,
      userId,
    });
  }
}

function callerOf(ctx: ServiceContext, call: RpcCall, localUserId: string | undefined): Promise<Caller> {
  const token = call.sessionToken?.trim();
  if (call.authorization === undefined && token) return authenticate(ctx, `Key ${token}`);
  if (call.authorization === undefined && localUserId !== undefined) {
    return Promise.resolve({ userId: localUserId });
  }
  return authenticate(ctx, call.authorization);
}
