/**
 * `clarifai serve`'s one configuration: each option from its flag, else SIBYL_<NAME>, else the
 * --config YAML file, else its default; every value checked before anything starts, and a bad one
 * named with where it came from.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';

import { isolatedEnv, runCli } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';

describe('clarifai serve --config, SIBYL_* variables and flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-serve-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('refuses an unknown key, a bad value from the file and from a variable, naming the source', async () => {
    const env = isolatedEnv();
    const typo = await runCli(['serve', '--config', file('typo.yaml', 'prot: 9\n')], env);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option "prot" \(did you mean "port"\?\); allowed: host, port,/);
    const bad = await runCli(['serve', '--config', file('bad.yaml', 'port: 0\nworkers: many\n')], env);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--workers must be a whole number from 1 to 256; got "many" \(set by .*bad\.yaml\)/,
    );
    const fromEnv = await runCli(['serve', '--port', '0'], { ...env, SIBYL_RATE_LIMIT: 'lots' });
    assert.equal(fromEnv.code, 2);
    assert.match(fromEnv.stderr, /--rate-limit must be .*got "lots" \(set by SIBYL_RATE_LIMIT\)/);
    const downloads = await runCli(['serve', '--port', '0', '--url-downloads', '0'], env);
    assert.equal(downloads.code, 2);
    assert.match(downloads.stderr, /--url-downloads must be a whole number from 1 to 4096; got "0"/);
    for (const res of [typo, bad, fromEnv, downloads]) assert.equal(res.stderr.trim().split('\n').length, 1);
  });

  it('takes values from the file, a variable over the file, and a flag over both', async () => {
    const config = file('serve.yaml', 'quiet: true\nworkers: 1\nrate-limit: 1\n');
    const limitedBy = async (extra: string[], vars: Record<string, string>) => {
      const env = isolatedEnv(vars);
      const served = await startServe(['--config', config, ...extra], env);
      try {
        const login = /clarifai login --config (\S+)/.exec(served.output())![1]!;
        const pat = (parse(readFileSync(login, 'utf8')) as { pat: string }).pat;
        // sent together, so no refill falls between them however slow the machine
        const answers = await Promise.all(
          Array.from({ length: 5 }, () =>
            fetch(`${served.url}/v2/users/me`, { headers: { authorization: `Key ${pat}` } }),
          ),
        );
        return answers.map((r) => r.status).sort();
      } finally {
        await served.stop();
      }
    };
    // the file's rate-limit 1 (bursts of 2): the third request in a row is refused
    assert.deepEqual(await limitedBy([], {}), [200, 200, 429, 429, 429]);
    // SIBYL_RATE_LIMIT=2 (bursts of 4) over the file
    assert.deepEqual(await limitedBy([], { SIBYL_RATE_LIMIT: '2' }), [200, 200, 200, 200, 429]);
    // the flag over both: no limit
    assert.deepEqual(
      await limitedBy(['--rate-limit', '0'], { SIBYL_RATE_LIMIT: '2' }),
      [200, 200, 200, 200, 200],
    );
  });
});
