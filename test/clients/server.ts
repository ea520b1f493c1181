/**
 * A real Sibyl server (`startServer`, as `clarifai serve` runs it) on 127.0.0.1, port 0, on a
 * throw-away data directory, for tests that drive it with Clarifai's official clients.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ServeOptions } from '../../src/server/main.js';
import { startServer } from '../../src/server/main.js';

export interface Sibyl {
  /** http(s)://127.0.0.1:port */
  url: string;
  /** 127.0.0.1:port, what gRPC clients take. */
  address: string;
  grpcAddress?: string;
  pat: string;
  userId: string;
  close(): Promise<void>;
}

export async function startSibyl(extra: Partial<ServeOptions> = {}): Promise<Sibyl> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-clients-'));
  try {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      allowPrivateUrls: true,
      ...extra,
    });
    const login = parse(readFileSync(server.bootstrap.path, 'utf8')) as { pat: string; user_id: string };
    return {
      url: server.url,
      address: server.url.replace(/^https?:\/\//, ''),
      ...(server.grpcAddress ? { grpcAddress: server.grpcAddress } : {}),
      pat: login.pat,
      userId: login.user_id,
      close: async () => {
        try {
          await server.close();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export interface TestCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile) };
}
