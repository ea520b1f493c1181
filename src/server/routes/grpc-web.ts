import { StatusCode } from '../../core/status.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type protobuf from 'protobufjs';
import { toErrorReply } from '../errors.js';
import type { RpcCallOptions } from '../grpc/calls.js';
import { runRpcStream } from '../grpc/calls.js';
import type { GrpcWebFormat } from '../grpc/web-frames.js';
import {
  decodeText,
  FrameError,
  GRPC_WEB_TYPES,
  grpcTimeoutMs,
  grpcWebFormat,
  messageFrame,
  readMessages,
  trailersFrame,
  encodeGrpcMessage,
} from '../grpc/web-frames.js';
import type { Canonical } from '../proto/json.js';
import { fromMessage, toMessage } from '../proto/json.js';
import { loadFullSchema, V2_SERVICE, v2Service } from '../proto/schema.js';
import type { ServiceContext } from '../services/context.js';
import { abandonSignal } from './v2/context.js';

/**
 * gRPC-web on the REST port: `POST /clarifai.api.V2/<Method>` with `application/grpc-web+proto`
 * or its base64 text form `application/grpc-web-text` (what clarifai-web-grpc sends), answered by
 * the same RPC table as gRPC and REST (grpc/calls.ts). Every RPC of service.proto answers: the
 * ones Sibyl does not serve with NOT_IMPLEMENTED in the response's `status`, at once. Only a
 * method service.proto lacks, or a broken body, is a gRPC error (grpc-status in the headers).
 *
 * gRPC-web carries its own auth (the `authorization` metadata is a header), so the app's auth hook
 * leaves these paths to this route, which answers a wrong key inside the response like gRPC does.
 * The full proto schema (~110 ms) is parsed on the first call, never at start-up.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route logs its own request line (see app.ts's onResponse hook). */
    rpcLogged?: boolean;
  }
}

export const GRPC_WEB_PREFIX = `/${V2_SERVICE}/`;

export function isGrpcWebPath(path: string): boolean {
  return path.startsWith(GRPC_WEB_PREFIX);
}

/** gRPC status codes this route answers with itself. */
const GRPC = { OK: 0, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

interface MethodTypes {
  method: protobuf.Method;
  reqType: protobuf.Type;
  resType: protobuf.Type;
}

let methods: Map<string, MethodTypes> | undefined;

function methodTypes(name: string): MethodTypes | undefined {
  if (!methods) {
    methods = new Map();
    for (const method of v2Service(loadFullSchema()).methodsArray) {
      method.resolve();
      methods.set(method.name, {
        method,
        reqType: method.resolvedRequestType!,
        resType: method.resolvedResponseType!,
      });
    }
  }
  return methods.get(name);
}

export function registerGrpcWebRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  opts: RpcCallOptions = {},
): void {
  app.addContentTypeParser(/^application\/grpc-web/i, { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  app.route({
    method: 'POST',
    url: `${GRPC_WEB_PREFIX}:method`,
    // the RPC's own log line (with its v2 status code) replaces the HTTP one
    config: { rpcLogged: true },
    errorHandler: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      if (!grpcWebFormat(req.headers['content-type'])) {
        notGrpcWeb(reply, req, err);
        return;
      }
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      if (!tooLarge) (opts.logError ?? ((e, id) => console.error(`[${id}]`, e)))(err, req.id);
      trailersOnly(
        reply,
        req,
        tooLarge ? GRPC.RESOURCE_EXHAUSTED : GRPC.INTERNAL,
        tooLarge ? 'the request exceeds the server limit' : 'internal error',
      );
    },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const format = grpcWebFormat(req.headers['content-type']);
      if (!format) return notGrpcWeb(reply, req, undefined);
      const name = (req.params as { method: string }).method;
      const types = methodTypes(name);
      if (!types) {
        return trailersOnly(reply, req, GRPC.UNIMPLEMENTED, `${V2_SERVICE} has no method ${name}`);
      }
      let messages: Buffer[];
      try {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        messages = readMessages(format === 'text' ? decodeText(body) : body);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        return trailersOnly(reply, req, err.grpcStatus, err.message);
      }
      const signal = callSignal(reply, req.headers['grpc-timeout']);
      const call = (raw: Buffer | undefined) =>
        runRpcStream(
          ctx,
          {
            method: name,
            authorization: header(req, 'authorization'),
            sessionToken: header(req, 'x-clarifai-session-token'),
            reqId: req.id,
            signal,
            transport: 'GRPC-WEB',
          },
          () => fromMessage(types.reqType, types.reqType.decode(raw ?? new Uint8Array(0))),
          opts,
        );
      // A grpc-web body is answered whole (a streamed answer's messages are sent together when it
      // ends): unary and server streaming take one message, client streaming answers its first,
      // bidirectional answers each in order.
      const requests = types.method.requestStream && types.method.responseStream ? messages : [messages[0]];
      const results: Canonical[] = [];
      for (const raw of requests) for await (const message of call(raw)) results.push(message);
      const frames = results.map((r) =>
        messageFrame(types.resType.encode(toMessage(types.resType, r)).finish()),
      );
      frames.push(trailersFrame(GRPC.OK));
      return send(reply, format, Buffer.concat(frames));
    },
  });
}

/** A body gRPC-web does not use (JSON, form data, ...): 415 with what to send, in REST's shape. */
function notGrpcWeb(reply: FastifyReply, req: FastifyRequest, err: unknown): FastifyReply {
  const status = err ? toErrorReply(err, req.id).status : undefined;
  return reply.code(415).send({
    status: {
      code: status?.code ?? StatusCode.CONN_BAD_REQUEST_FORMAT,
      description: status?.description ?? 'Bad request format',
      details: `send ${GRPC_WEB_TYPES.binary} or ${GRPC_WEB_TYPES.text} to ${req.url.split('?')[0]}`,
      req_id: req.id,
    },
  });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(reply: FastifyReply, format: GrpcWebFormat, body: Buffer): FastifyReply {
  return reply
    .code(200)
    .header('content-type', GRPC_WEB_TYPES[format])
    .send(format === 'text' ? body.toString('base64') : body);
}

/** An answer without messages: the status in the headers (and the body's trailers frame). */
function trailersOnly(
  reply: FastifyReply,
  req: FastifyRequest,
  status: number,
  message: string,
): FastifyReply {
  const format = grpcWebFormat(req.headers['content-type']) ?? 'binary';
  void reply.header('grpc-status', String(status)).header('grpc-message', encodeGrpcMessage(message));
  return send(reply, format, trailersFrame(status, message));
}

/** Aborted when the client goes away or its grpc-timeout passes. */
function callSignal(reply: FastifyReply, timeout: string | string[] | undefined): AbortSignal {
  const abandoned = abandonSignal(reply);
  const ms = grpcTimeoutMs(Array.isArray(timeout) ? timeout[0] : timeout);
  return ms === undefined ? abandoned : AbortSignal.any([abandoned, AbortSignal.timeout(ms)]);
}
