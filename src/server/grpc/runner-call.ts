import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { SibylError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import { serveRunnerStream } from '../compute/runner-stream.js';
import { toErrorReply } from '../errors.js';
import type { Canonical } from '../proto/json.js';
import { fromMessage } from '../proto/json.js';
import { authenticate } from '../services/auth.js';
import type { ServiceContext } from '../services/context.js';
import type { RpcCallOptions } from './calls.js';

/**
 * ProcessRunnerItems over gRPC: unlike other streaming RPCs its messages are not independent
 * requests but one conversation (server/compute/runner-stream.ts), so it gets its own handler.
 * Errors answer as one MultiRunnerItemResponse whose status says what was wrong, then the end.
 */
export function runnerStreamHandler(
  ctx: ServiceContext,
  reqType: protobuf.Type,
  decodeError: (msg: unknown) => Error | undefined,
  opts: RpcCallOptions,
): grpc.handleBidiStreamingCall<unknown, Canonical> {
  return (call) => {
    const closed = new AbortController();
    call.on('cancelled', () => closed.abort());
    call.on('error', () => closed.abort());
    const reqId = newId();
    const started = performance.now();
    let code: number = StatusCode.SUCCESS;
    const incoming = (call as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const decode = (msg: unknown): Canonical => {
      const bad = decodeError(msg);
      if (bad) throw bad;
      return fromMessage(reqType, msg as protobuf.Message);
    };
    async function* rest(): AsyncGenerator<Canonical> {
      for (;;) {
        const next = await incoming.next().catch(() => ({ done: true as const, value: undefined }));
        if (next.done) return;
        yield decode(next.value);
      }
    }
    void (async () => {
      try {
        const header = call.metadata.get('authorization')[0];
        const authorization = typeof header === 'string' ? header : header?.toString();
        const caller = await authenticate(ctx, authorization);
        const first = await incoming.next();
        if (first.done) return;
        await serveRunnerStream(ctx, caller, decode(first.value), {
          send: (message) => {
            if (!closed.signal.aborted) call.write(message);
          },
          messages: rest(),
          closed: closed.signal,
          reauthenticate: () => authenticate(ctx, authorization),
        });
      } catch (error) {
        const reply = toErrorReply(error, reqId);
        code = reply.status.code;
        if (!(error instanceof SibylError))
          (opts.logError ?? ((e, id) => console.error(`[${id}]`, e)))(error, reqId);
        if (!closed.signal.aborted) call.write({ status: reply.status, runner_items: [] });
      } finally {
        closed.abort();
        call.end();
        opts.logRequest?.(
          `${new Date().toISOString()} GRPC /clarifai.api.V2/ProcessRunnerItems ${code} ${(performance.now() - started).toFixed(1)}ms req_id=${reqId}`,
        );
      }
    })();
  };
}
