/**
 * The SDK as its own package: packed by scripts/pack-sdk.mjs, installed into an empty project
 * with no registry, it has no dependencies at all and predicts against a v2 API.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { fakeClarifai } from '../helpers/http.js';

describe('@sibyl/sdk installs and runs alone', () => {
  let api: Awaited<ReturnType<typeof fakeClarifai>>;
  before(async () => {
    api = await fakeClarifai(() => ({
      status: 200,
      body: {
        status: { code: 10000, description: 'Ok', req_id: 'r1' },
        outputs: [
          {
            id: 'o',
            status: { code: 10000, description: 'Ok' },
            created_at: '',
            data: { concepts: [{ id: 'en', name: 'en', value: 0.9 }] },
          },
        ],
      },
    }));
  });
  after(() => api.close());

  it('has no dependencies and predicts from a plain Node script', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sibyl-sdk-alone-'));
    const tarball = execFileSync(process.execPath, [join(ROOT, 'scripts/pack-sdk.mjs'), join(work, 'pkg')], {
      encoding: 'utf8',
    }).trim();
    const app = join(work, 'app');
    mkdirSync(app);
    execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      stdio: 'ignore',
    });
    assert.deepEqual(
      readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')),
      ['@sibyl'],
    );

    writeFileSync(
      join(app, 'predict.mjs'),
      `import { Model } from '@sibyl/sdk';
const model = new Model({ url: 'https://clarifai.com/clarifai/main/models/language-identification', authConfig: { pat: 'k', base: process.argv[2] } });
const outputs = await model.predictByBytes({ inputBytes: Buffer.from('hello there'), inputType: 'text' });
console.log(outputs[0].data.concepts[0].name);
`,
    );
    // async: the fake API answers from this process, so it must not be blocked while the script runs
    const { stdout: printed } = await promisify(execFile)(process.execPath, ['predict.mjs', api.url], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '' },
    });
    assert.equal(printed.trim(), 'en');
    assert.equal(api.requests.at(-1)!.headers.authorization, 'Key k');
  });
});
