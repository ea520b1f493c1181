import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { Duplex } from 'node:stream';
import { InvalidArgumentError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { StatusCode } from '../../core/status.js';
import type { Canonical } from '../proto/json.js';
import { fromMessage, toMessage } from '../proto/json.js';
import { loadFullSchema, V2_SERVICE, v2Service } from '../proto/schema.js';
import type { ServiceContext } from '../services/context.js';
import type { RpcCallOptions } from './calls.js';
import { runRpcStream } from './calls.js';
import { runnerStreamHandler } from './runner-call.js';

/**
 * Clarifai's `V2` gRPC service over the same service layer as REST. Every one of the proto's RPCs
 * is registered: the ones in services/v2-rpcs.ts run, and the others answer at once with
 * NOT_IMPLEMENTED in their response's `status`. As on Clarifai's API, the gRPC status is OK and
 * the outcome is the v2 `status` of the response message, exactly as REST reports it.
 */

export interface V2GrpcOptions {
  /** Largest request message in bytes (as REST's body limit). */
  maxMessageBytes?: number;
  logRequest?: (line: string) => void;
  /** Each call as a record, for metrics and the JSON request log. */
  observe?: RpcCallOptions['observe'];
  logError?: (err: unknown, reqId: string) => void;
}

export interface V2Grpc {
  /** Serves gRPC on a connection whose first bytes are the HTTP/2 preface (plaintext or TLS). */
  inject(socket: Duplex): void;
  close(): Promise<void>;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

export function createV2Grpc(ctx: ServiceContext, opts: V2GrpcOptions = {}): V2Grpc {
  const root = loadFullSchema();
  const service = v2Service(root);
  const maxBytes = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': -1,
  });

  const callOpts: RpcCallOptions = {
    ...(opts.logRequest ? { logRequest: opts.logRequest } : {}),
    ...(opts.observe ? { observe: opts.observe } : {}),
    ...(opts.logError ? { logError: opts.logError } : {}),
  };
  /**
   * One RPC call: auth, decode, the service, and any error as the response's status; its answer
   * as a stream of messages (one, unless the RPC streams).
   */
  const run = (
    method: protobuf.Method,
    reqType: protobuf.Type,
    metadata: grpc.Metadata,
    msg: unknown,
    signal: AbortSignal,
  ): AsyncIterable<Canonical> =>
    runRpcStream(
      ctx,
      {
        method: method.name,
        authorization: metadataText(metadata, 'authorization'),
        sessionToken: metadataText(metadata, 'x-clarifai-session-token'),
        reqId: newId(),
        signal,
        transport: 'GRPC',
      },
      () => {
        if (msg instanceof UndecodableRequest) throw msg.error(method.name);
        return fromMessage(reqType, msg as protobuf.Message);
      },
      callOpts,
    );

  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const reqType = method.resolvedRequestType!;
    const resType = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${V2_SERVICE}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (m: protobuf.Message) => Buffer.from(reqType.encode(m).finish()),
      // a message protobufjs cannot decode (nested past its depth limit, truncated) is answered with
      // a v2 status like a bad REST body, not grpc-js's bare INTERNAL
      requestDeserialize: (b: Buffer) => {
        try {
          return reqType.decode(b);
        } catch (error) {
          return new UndecodableRequest(error);
        }
      },
      responseSerialize: (c: Canonical) => Buffer.from(resType.encode(toMessage(resType, c)).finish()),
      responseDeserialize: (b: Buffer) => resType.decode(b),
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    } as grpc.MethodDefinition<unknown, unknown>;
    implementation[method.name] =
      method.name === 'ProcessRunnerItems'
        ? runnerStreamHandler(
            ctx,
            reqType,
            (msg) => (msg instanceof UndecodableRequest ? msg.error(method.name) : undefined),
            callOpts,
          )
        : handlerFor(method, (metadata, msg, signal) => run(method, reqType, metadata, msg, signal));
  }
  server.addService(definition, implementation);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  return {
    inject: (socket) => injector.injectConnection(socket),
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // calls still running after a grace period are cut off
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}

/** A request message that could not be decoded, carried to the call so it can answer in v2 terms. */
class UndecodableRequest {
  constructor(private readonly cause: unknown) {}

  error(method: string): InvalidArgumentError {
    const why = this.cause instanceof Error ? this.cause.message : String(this.cause);
    return new InvalidArgumentError(
      `the ${method} request message could not be decoded (${why.slice(0, 200)}); messages may nest at most 64 levels`,
      StatusCode.CONN_BAD_REQUEST_FORMAT,
    );
  }
}

function metadataText(metadata: grpc.Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return typeof v === 'string' ? v : v?.toString();
}

type Run = (metadata: grpc.Metadata, msg: unknown, signal: AbortSignal) => AsyncIterable<Canonical>;

/** The one answer of a call that does not stream. */
async function single(messages: AsyncIterable<Canonical>): Promise<Canonical> {
  for await (const message of messages) return message;
  throw new Error('the call answered nothing');
}

/** Writes each message of an answer as it comes; stops pulling once the client has gone. */
async function writeAll(
  call: grpc.ServerWritableStream<unknown, Canonical> | grpc.ServerDuplexStream<unknown, Canonical>,
  messages: AsyncIterable<Canonical>,
  signal: AbortSignal,
): Promise<void> {
  for await (const message of messages) {
    if (signal.aborted) return;
    call.write(message);
  }
}

function cancelSignal(call: AnyCall | grpc.ServerDuplexStream<unknown, unknown>): AbortSignal {
  const abort = new AbortController();
  (call as grpc.ServerUnaryCall<unknown, unknown>).on('cancelled', () => abort.abort());
  return abort.signal;
}

/** The grpc-js handler for an RPC's streaming kind; the work is the same for each. */
function handlerFor(method: protobuf.Method, run: Run): grpc.UntypedHandleCall {
  const clientStream = method.requestStream === true;
  const serverStream = method.responseStream === true;
  if (!clientStream && !serverStream) {
    return ((call: grpc.ServerUnaryCall<unknown, Canonical>, callback: grpc.sendUnaryData<Canonical>) => {
      void single(run(call.metadata, call.request, cancelSignal(call))).then((res) => callback(null, res));
    }) as grpc.handleUnaryCall<unknown, Canonical>;
  }
  if (!clientStream) {
    // one request, its answer's messages as they come
    return ((call: grpc.ServerWritableStream<unknown, Canonical>) => {
      const signal = cancelSignal(call);
      void writeAll(call, run(call.metadata, call.request, signal), signal).then(() => call.end());
    }) as grpc.handleServerStreamingCall<unknown, Canonical>;
  }
  if (!serverStream) {
    // answered from the first request message; Sibyl implements no client-streaming RPC yet
    return ((
      call: grpc.ServerReadableStream<unknown, Canonical>,
      callback: grpc.sendUnaryData<Canonical>,
    ) => {
      let answered = false;
      const answer = (msg: unknown) => {
        if (answered) return;
        answered = true;
        void single(run(call.metadata, msg, new AbortController().signal)).then((res) => callback(null, res));
      };
      call.once('data', answer);
      call.once('end', () => answer({}));
      call.on('error', () => undefined);
    }) as grpc.handleClientStreamingCall<unknown, Canonical>;
  }
  // bidirectional: each request message gets its answer's messages, in order
  return ((call: grpc.ServerDuplexStream<unknown, Canonical>) => {
    const signal = cancelSignal(call);
    let chain: Promise<void> = Promise.resolve();
    call.on('data', (msg: unknown) => {
      chain = chain.then(() => writeAll(call, run(call.metadata, msg, signal), signal));
    });
    call.on('end', () => void chain.then(() => call.end()));
    call.on('error', () => undefined);
  }) as grpc.handleBidiStreamingCall<unknown, Canonical>;
}
