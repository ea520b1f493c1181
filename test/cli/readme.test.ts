/**
 * The README's command examples, pasted in order into bash as a new user would, on a fresh data
 * directory and config: the quick start's commands and every block of the CLI reference, the
 * serve-then-login one included (it must wait for the server, not race it). Lines marked as
 * needing the internet are left out; the serve example gets a free port instead of 8080. They run
 * in a scratch folder that sees the checkout's test photos, so what they write stays there.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isolatedEnv, ROOT } from '../helpers/cli.js';
import { freePort } from '../helpers/process-group.js';

function section(text: string, from: string, to: string): string {
  const start = text.indexOf(from);
  assert.ok(start >= 0, from);
  return text.slice(start, text.indexOf(to, start));
}

function bashBlocks(text: string): string[] {
  return [...text.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function bash(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // its own process group: a server the examples start in the background (`clarifai serve &`)
    // runs under a subshell that bash's own trap cannot reach, so the test stops the whole group
    const child = spawn('bash', ['-c', script], { env, cwd, detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // the group is already gone
      }
    });
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('README examples', () => {
  it('work when pasted in order on a fresh machine', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [
      ...bashBlocks(section(readme, '## Quick start', '## Models that run here')).filter(
        (b) => !b.includes('npm ci'),
      ),
      ...bashBlocks(section(readme, '## CLI reference', '## SDK')),
    ];
    assert.ok(blocks.length >= 3);
    const port = await freePort();
    const work = mkdtempSync(join(tmpdir(), 'sibyl-readme-'));
    symlinkSync(join(ROOT, 'test'), join(work, 'test'));
    const lines = blocks
      .join('\n')
      .split('\n')
      .filter((l) => !/^npm link/.test(l))
      .join('\n')
      // a continued command ends where its last line does: drop commands that need the internet
      .replace(/[^\n]*\\\n[^\n]*# needs the internet\n/g, '')
      .replace(/--port 8080/g, `--port ${port}`);
    const script = [
      'set -eo pipefail',
      `clarifai() { "${process.execPath}" "${join(ROOT, 'bin/clarifai.js')}" "$@"; }`,
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
      lines,
    ].join('\n');
    const res = await bash(script, isolatedEnv(), work);
    assert.equal(res.code, 0, `${script}\n---\n${res.out}`);
    assert.match(res.out, /^dog\s+0\.\d+$/m);
    assert.match(res.out, /^fr\s+1\.0000$/m);
    assert.match(res.out, /Logged in to http:\/\/127\.0\.0\.1:\d+ as admin/);
    assert.match(res.out, /Commands now use the embedded engine/);
    assert.ok(existsSync(join(work, 'annotated', 'dogs.jpg')));
    assert.equal(readFileSync(join(work, 'out.jsonl'), 'utf8').trim().split('\n').length, 5);
  });
});
