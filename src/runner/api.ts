import * as grpc from '@grpc/grpc-js';
import serviceGrpc from 'clarifai-nodejs-grpc/proto/clarifai/api/service_grpc_pb';
import servicePb from 'clarifai-nodejs-grpc/proto/clarifai/api/service_pb';
import { StatusCode } from '../core/status.js';
import { ApiError, ConnectionError } from '../sdk/errors.js';
import { decode, encode, schema, type Json } from './proto.js';

/**
 * The runner's side of Clarifai's API: the official generated V2 client (clarifai-nodejs-grpc) on
 * @grpc/grpc-js, with the PAT in the `authorization` metadata. Requests and responses are v2 JSON
 * here; proto.ts turns them into the generated classes' bytes.
 */

/** A message class of the generated code: what the client serialises and what it hands back. */
interface GeneratedMessage {
  serializeBinary(): Uint8Array;
}
type GeneratedClass = { deserializeBinary(bytes: Uint8Array): GeneratedMessage };

const classes = servicePb as unknown as Record<string, GeneratedClass>;

export type Duplex = grpc.ClientDuplexStream<GeneratedMessage, GeneratedMessage>;

export class RunnerApi {
  private readonly client: grpc.Client & Record<string, unknown>;
  private readonly metadata: grpc.Metadata;

  /** `url` is the API's base URL (http:// is plaintext gRPC, https:// TLS), as a login's base_url. */
  constructor(
    readonly url: string,
    pat: string,
  ) {
    const u = new URL(url);
    const tls = u.protocol === 'https:';
    const target = `${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || (tls ? 443 : 80)}`;
    this.client = new serviceGrpc.V2Client(
      target,
      tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      {
        // inputs travel inline (base64 images, audio): no message limit of gRPC's 4 MiB default
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
        // a broken connection is noticed within seconds, not at the next item
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 1,
      },
    ) as unknown as grpc.Client & Record<string, unknown>;
    this.metadata = new grpc.Metadata();
    this.metadata.set('authorization', `Key ${pat}`);
  }

  /**
   * One unary RPC; resolves with the response when its status is SUCCESS. Otherwise the SDK's
   * errors, so the CLI reports them as it does every other call: ApiError with the v2 status, or
   * ConnectionError when the API cannot be reached.
   */
  async call(rpc: string, request: Json, timeoutMs = 30_000): Promise<Json> {
    const method = schema().lookupService('clarifai.api.V2').methods[rpc];
    if (!method) throw new Error(`clarifai.api.V2 has no RPC ${rpc}`);
    method.resolve();
    const reqType = method.resolvedRequestType!;
    // every request message is in service.proto, so it has a class in service_pb
    const reqClass = classes[reqType.name];
    if (!reqClass) throw new Error(`no generated class for ${reqType.fullName}`);
    const message = reqClass.deserializeBinary(encode(reqType.fullName, request));
    const fn = this.client[lowerFirst(rpc)] as (
      req: GeneratedMessage,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: GeneratedMessage) => void,
    ) => void;
    const res = await new Promise<GeneratedMessage>((resolve, reject) => {
      fn.call(this.client, message, this.metadata, { deadline: Date.now() + timeoutMs }, (err, r) => {
        if (err || !r) reject(new ConnectionError(this.url, `${rpc}: ${err?.details ?? 'no answer'}`));
        else resolve(r);
      });
    });
    const json = decode(method.resolvedResponseType!.fullName, res.serializeBinary());
    const status = (json.status ?? {}) as { code?: number; description?: string; details?: string };
    if (status.code !== StatusCode.SUCCESS)
      throw new ApiError({
        httpStatus: 0,
        code: status.code ?? StatusCode.FAILURE,
        description: `${rpc}: ${status.description ?? 'failed'}`,
        ...(status.details ? { details: status.details } : {}),
      });
    return json;
  }

  /** Opens ProcessRunnerItems, the bidi stream the runner takes its work from. */
  openProcessStream(): Duplex {
    const fn = this.client.processRunnerItems as (md: grpc.Metadata) => Duplex;
    return fn.call(this.client, this.metadata);
  }

  /** Whether the channel to the API is connected now. */
  connected(): boolean {
    return this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
  }

  close(): void {
    this.client.close();
  }
}

/** A PostRunnerItemOutputsRequest for the stream, as the generated class. */
export function outputsMessage(json: Json): GeneratedMessage {
  return classes.PostRunnerItemOutputsRequest!.deserializeBinary(
    encode('PostRunnerItemOutputsRequest', json),
  );
}

/** A MultiRunnerItemResponse from the stream, as v2 JSON. */
export function itemsJson(message: GeneratedMessage): Json {
  return decode('MultiRunnerItemResponse', message.serializeBinary());
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
