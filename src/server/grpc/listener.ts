import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/**
 * One port for every client: REST (HTTP/1.1) and gRPC (HTTP/2) are told apart by the first bytes
 * of a connection, so the one base URL a user has works for Clarifai's REST and gRPC clients alike.
 *
 * - Plaintext: a connection that opens with the HTTP/2 client preface (`PRI * HTTP/2.0...`) goes
 *   to gRPC; anything else to the HTTP/1.1 app (REST, gRPC-web, health).
 * - TLS (when given a certificate and key): ALPN picks. A client that offers `http/1.1` can speak
 *   it, so it gets HTTP/1.1 and the app (browsers, curl, REST SDKs: they offer `h2` and
 *   `http/1.1`, and a browser given `h2` would reach gRPC with its page or gRPC-web request); a
 *   client that offers `h2` alone is a gRPC client (grpc-js, grpc-core's `grpc-exp`/`h2`, Go,
 *   Java) and gets gRPC. A plaintext connection to a TLS port is still answered (plaintext), so a
 *   client that forgot `https` gets a real error, not a hang.
 */

export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const TLS_HANDSHAKE = 0x16;

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface SniffingListenerOptions {
  /** The HTTP/1.1 server (fastify's `app.server`); it never listens itself. */
  http: HttpServer;
  /** Takes plaintext HTTP/2 connections (gRPC); without it they go to `http` too. */
  http2?: (socket: Duplex) => void;
  tls?: TlsFiles;
  /** A connection that has not sent its first bytes by then is closed (ms). */
  firstBytesTimeoutMs?: number;
}

type Route = 'h2' | 'http1' | 'tls';

function classify(first: Buffer, tlsEnabled: boolean): Route | undefined {
  if (first.length === 0) return undefined;
  if (tlsEnabled && first[0] === TLS_HANDSHAKE) return 'tls';
  const n = Math.min(first.length, HTTP2_PREFACE.length);
  if (first.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n))) {
    return first.length >= HTTP2_PREFACE.length ? 'h2' : undefined; // a prefix: wait for more
  }
  return 'http1';
}

/** A net.Server that sniffs each connection and hands it to REST or gRPC. */
export function createSniffingListener(opts: SniffingListenerOptions): net.Server {
  const secureContext = opts.tls
    ? tls.createSecureContext({ cert: opts.tls.cert, key: opts.tls.key })
    : undefined;
  const timeoutMs = opts.firstBytesTimeoutMs ?? 30_000;

  const toHttp1 = (socket: Duplex) => opts.http.emit('connection', socket);
  const http2 = opts.http2;

  const server = net.createServer({ pauseOnConnect: false }, (socket) => {
    let seen: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    timer.unref();
    const onError = () => socket.destroy();
    socket.on('error', onError);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const route = classify(seen, secureContext !== undefined);
      if (!route) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      if (route === 'tls') {
        startTls(replay(socket, seen), secureContext!, toHttp1, http2);
        return;
      }
      socket.unshift(seen);
      if (route === 'h2' && http2) {
        http2(socket); // an HTTP/2 session reads what is buffered on the socket first
      } else {
        // without gRPC, the HTTP/1 parser answers a preface with 400
        toHttp1(socket);
        socket.resume(); // the HTTP/1 parser listens for 'data': the paused stream must flow again
      }
    };
    socket.on('data', onData);
  });
  return server;
}

function startTls(
  raw: Duplex,
  secureContext: tls.SecureContext,
  toHttp1: (s: Duplex) => void,
  toHttp2: ((s: Duplex) => void) | undefined,
): void {
  const socket = new tls.TLSSocket(raw as net.Socket, {
    isServer: true,
    secureContext,
    // without gRPC, a client that speaks h2 alone is refused in the handshake (no_application_protocol)
    ALPNCallback: ({ protocols }) =>
      protocols.includes('http/1.1') ? 'http/1.1' : toHttp2 && protocols.includes('h2') ? 'h2' : undefined,
  });
  socket.on('error', () => socket.destroy());
  socket.once('secure', () => {
    // Node's HTTP/2 session over a stream without a native handle fails on data already buffered
    // in it, so it gets a wrapper that reads nothing until the session asks
    if (socket.alpnProtocol === 'h2' && toHttp2) toHttp2(replay(socket, Buffer.alloc(0)));
    else toHttp1(socket);
  });
}

/**
 * The socket as a stream that first yields the bytes already read from it. TLS takes the native
 * handle of a net.Socket and would miss bytes pushed back with unshift, so it gets this instead.
 */
function replay(socket: net.Socket, first: Buffer): Duplex {
  let reading = false;
  const duplex = new Duplex({
    read() {
      if (!reading) {
        reading = true;
        socket.on('data', (d: Buffer) => {
          if (!duplex.push(d)) socket.pause();
        });
      }
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  if (first.length > 0) duplex.push(first);
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => duplex.destroy());
  return duplex;
}
