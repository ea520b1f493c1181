/**
 * A small XMLHttpRequest over node:http, enough for grpc-web's XhrIo (what clarifai-web-grpc runs
 * on) to work in Node: Node has fetch but no XMLHttpRequest, and no XHR package is installed. It
 * follows the browser's readyState sequence (1 on open, 2 on headers, 3 as text arrives, 4 at the
 * end) with a growing `responseText`, which grpc-web's text-format stream parser reads as it comes.
 * It sends an `Origin` header when given one, as a browser on that page would.
 */
import http from 'node:http';
import https from 'node:https';

export interface XhrShim {
  /** The constructor to put on globalThis.XMLHttpRequest. */
  XMLHttpRequest: new () => unknown;
  /** The requests sent so far: method, URL and headers, for assertions. */
  sent: { method: string; url: string; headers: Record<string, string> }[];
}

export function makeXhr(opts: { origin?: string; ca?: Buffer } = {}): XhrShim {
  const sent: XhrShim['sent'] = [];

  class NodeXhr {
    static readonly UNSENT = 0;
    static readonly OPENED = 1;
    static readonly HEADERS_RECEIVED = 2;
    static readonly LOADING = 3;
    static readonly DONE = 4;

    readyState = 0;
    status = 0;
    statusText = '';
    responseText = '';
    responseType = '';
    withCredentials = false;
    timeout = 0;
    onreadystatechange: ((ev: unknown) => void) | null = null;
    onload: ((ev: unknown) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    onabort: ((ev: unknown) => void) | null = null;

    private method = 'GET';
    private url = '';
    private headers: Record<string, string> = {};
    private responseHeaders: http.IncomingHttpHeaders = {};
    private request: http.ClientRequest | undefined;
    private listeners = new Map<string, Set<(ev: unknown) => void>>();

    get response(): string {
      return this.responseText;
    }

    open(method: string, url: string): void {
      this.method = method.toUpperCase();
      this.url = url;
      this.headers = {};
      this.setState(1);
    }

    setRequestHeader(name: string, value: string): void {
      this.headers[name.toLowerCase()] = value;
    }

    overrideMimeType(): void {}

    addEventListener(type: string, fn: (ev: unknown) => void): void {
      if (!this.listeners.has(type)) this.listeners.set(type, new Set());
      this.listeners.get(type)!.add(fn);
    }

    removeEventListener(type: string, fn: (ev: unknown) => void): void {
      this.listeners.get(type)?.delete(fn);
    }

    getAllResponseHeaders(): string {
      if (this.readyState < 2) return '';
      return Object.entries(this.responseHeaders)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
        .join('\r\n');
    }

    getResponseHeader(name: string): string | null {
      const v = this.responseHeaders[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    }

    send(body?: string | Uint8Array | null): void {
      const headers = { ...this.headers, ...(opts.origin ? { origin: opts.origin } : {}) };
      sent.push({ method: this.method, url: this.url, headers });
      const url = new URL(this.url);
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        { method: this.method, headers, ...(opts.ca ? { ca: opts.ca } : {}) },
        (res) => {
          this.status = res.statusCode ?? 0;
          this.statusText = res.statusMessage ?? '';
          this.responseHeaders = res.headers;
          this.setState(2);
          res.setEncoding('latin1'); // grpc-web-text is ASCII; binary bodies stay byte for byte
          res.on('data', (chunk: string) => {
            this.responseText += chunk;
            this.setState(3);
          });
          res.on('end', () => {
            this.setState(4);
            this.emit('load');
          });
        },
      );
      this.request = req;
      req.on('error', () => {
        this.status = 0;
        this.setState(4);
        this.emit('error');
      });
      if (body !== undefined && body !== null) req.write(typeof body === 'string' ? body : Buffer.from(body));
      req.end();
    }

    abort(): void {
      this.request?.destroy();
      this.emit('abort');
    }

    private setState(state: number): void {
      this.readyState = state;
      this.emit('readystatechange');
    }

    private emit(type: string): void {
      const ev = { type, target: this, currentTarget: this };
      const handler = (this as unknown as Record<string, unknown>)[`on${type}`];
      if (typeof handler === 'function') (handler as (ev: unknown) => void).call(this, ev);
      for (const fn of this.listeners.get(type) ?? []) fn.call(this, ev);
    }
  }

  return { XMLHttpRequest: NodeXhr, sent };
}
