import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const PHOTOS = join(ROOT, 'test/fixtures/photos');
export const RECOGNITION_URL = 'https://clarifai.com/clarifai/main/models/general-image-recognition';
export const DETECTION_URL = 'https://clarifai.com/clarifai/main/models/general-image-detection';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh home for one test: its own data directory and Clarifai config, no inherited credentials. */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-cli-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CLARIFAI_')) env[k] = v;
  return { ...env, SIBYL_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir, ...extra };
}

/** Runs the built `clarifai` bin (as a user would, after npm ci) in a child process. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/clarifai.js'), ...args], {
      env,
      cwd: opts.cwd ?? ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Concept names from the CLI's human table output, in order. */
export function conceptNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(1)
    .map((l) => /^(.+?)\s{2,}[0-9.]+$/.exec(l.trim())?.[1])
    .filter((n): n is string => n !== undefined);
}
