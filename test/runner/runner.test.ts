/**
 * `clarifai runner` as a user runs it, against `clarifai serve` on loopback (both the built bin in
 * child processes, each in its own process group, stopped in `after` whatever happened): flags
 * refused before anything starts; registration on a nodepool; a stream the API refuses ends the
 * runner with the API's reason; SIGTERM finishes cleanly and deregisters the runner (not with
 * --keep); the health port answers 200 while connected and 503 while the API is away; the runner
 * reconnects to a restarted API; a deployment on the runner's nodepool is answered by the runner.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { onnxClassifierFolder, RGB, solidPng } from '../helpers/model-folders.js';
import { freePort, startCli, type Proc } from '../helpers/process-group.js';
import { health, rest, startServer, until } from './processes.js';

const TEXT = 'The quick brown fox jumps over the lazy dog while the children watch from the garden.';

describe('clarifai runner: flags refused before anything starts', () => {
  const env = isolatedEnv({ CLARIFAI_PAT: 'not-used-here' });
  const cases: Array<[string[], RegExp]> = [
    [['runner', '--nodepool_id', 'np'], /--compute_cluster_id is required/],
    [['runner', '-cc_id', 'cc'], /--nodepool_id is required/],
    [['runner', '-cc_id', 'cc', '-np_id', 'a b'], /--nodepool_id "a b" is not an id/],
    [
      ['runner', '-cc_id', 'cc', '-np_id', 'np', '--concurrency', '0'],
      /--concurrency must be a whole number from 1/,
    ],
    [
      ['runner', '-cc_id', 'cc', '-np_id', 'np', '--health-port', 'x'],
      /--health-port must be a whole number/,
    ],
    [
      ['runner', '-cc_id', 'cc', '-np_id', 'np', '--preload', 'general-image-recognition'],
      /--preload .* must be USER\/APP\/MODEL/,
    ],
    [
      ['runner', '-cc_id', 'cc', '-np_id', 'np', '--models', '/nonexistent/models'],
      /--models \/nonexistent\/models: no such folder/,
    ],
    [
      ['runner', '-cc_id', 'cc', '-np_id', 'np', '--api-url', '127.0.0.1:1'],
      /--api-url "127.0.0.1:1" has no scheme/,
    ],
  ];
  for (const [args, message] of cases) {
    it(`${args.slice(1).join(' ')}: one line, exit 2`, async () => {
      const r = await runCli(args, env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  it('without a PAT it says where one comes from (never a flag)', async () => {
    const r = await runCli(['runner', '-cc_id', 'cc', '-np_id', 'np'], isolatedEnv());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CLARIFAI_PAT/);
  });
});

describe('clarifai runner against clarifai serve', () => {
  const home = mkdtempSync(join(tmpdir(), 'sibyl-runner-'));
  const serverData = join(home, 'server');
  const procs: Proc[] = [];
  let server: Awaited<ReturnType<typeof startServer>>;
  let port: number;
  let env: Record<string, string>;

  const runner = (args: string[], extra: Record<string, string> = {}): Proc => {
    const p = startCli(['runner', '--api-url', server.url, ...args], { ...env, ...extra });
    procs.push(p);
    return p;
  };

  before(async () => {
    port = await freePort();
    env = isolatedEnv();
    server = await startServer(port, serverData, env);
    procs.push(server);
    env = { ...env, CLARIFAI_PAT: server.pat };
    for (const [path, body] of [
      ['/v2/users/admin/compute_clusters', { compute_clusters: [{ id: 'cc' }] }],
      ['/v2/users/admin/compute_clusters/cc/nodepools', { nodepools: [{ id: 'np' }] }],
    ] as const) {
      const res = await rest(server, 'POST', path, body);
      assert.equal(res.status.code, 10000, JSON.stringify(res));
    }
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  const runners = async () =>
    ((await rest(server, 'GET', '/v2/users/admin/compute_clusters/cc/nodepools/np/runners'))
      .runners as Array<{
      id: string;
      metadata?: { sibyl?: { concurrency?: number; models?: string[] } };
    }>) ?? [];

  it("a nodepool that does not exist: the API's reason, exit 1", async () => {
    const p = runner(['-cc_id', 'cc', '-np_id', 'missing', '--data-dir', join(home, 'r0')]);
    assert.equal(await p.exited, 1, p.output());
    assert.match(p.output(), /nodepool .*missing.* does not exist|Nodepool does not exist/i);
    assert.doesNotMatch(p.output(), new RegExp(server.pat));
  });

  it('registers with its concurrency and models, says so once, and SIGTERM deregisters it and exits 0', async () => {
    const hp = await freePort();
    const p = runner([
      '-cc_id',
      'cc',
      '-np_id',
      'np',
      '--concurrency',
      '3',
      '--health-port',
      String(hp),
      '--data-dir',
      join(home, 'r1'),
    ]);
    const m = await p.waitFor(
      /runner (\S+) serving nodepool cc\/np at http:\/\/127\.0\.0\.1:\d+ with 3 slots\n/,
    );
    const id = m[1]!;
    const mine = (await runners()).find((r) => r.id === id);
    assert.ok(mine, 'listed in its nodepool');
    assert.equal(mine.metadata?.sibyl?.concurrency, 3);
    assert.ok(mine.metadata?.sibyl?.models?.includes('clarifai/main/language-identification'));
    assert.equal(await health(hp), 200);
    p.signal('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
    assert.ok(!(await runners()).some((r) => r.id === id), 'deleted on exit');
    assert.equal(p.output().trim().split('\n').length, 1, p.output());
    assert.doesNotMatch(p.output(), new RegExp(server.pat));
  });

  it('--runner_id with --keep stays registered, and serves again under the same id with its new concurrency', async () => {
    const args = [
      '-cc_id',
      'cc',
      '-np_id',
      'np',
      '--runner_id',
      'box-7',
      '--keep',
      '--data-dir',
      join(home, 'r2'),
    ];
    const first = runner(args);
    await first.waitFor(/runner box-7 serving nodepool cc\/np/);
    first.signal('SIGINT');
    assert.equal(await first.exited, 0, first.output());
    assert.ok(
      (await runners()).some((r) => r.id === 'box-7'),
      'kept',
    );
    const again = runner([...args, '--concurrency', '5']);
    await again.waitFor(/runner box-7 serving nodepool cc\/np at \S+ with 5 slots/);
    const box = (await runners()).find((r) => r.id === 'box-7');
    assert.equal(box?.metadata?.sibyl?.concurrency, 5, 'the API schedules by the new concurrency');
    again.signal('SIGTERM');
    assert.equal(await again.exited, 0, again.output());
    assert.ok(
      (await runners()).some((r) => r.id === 'box-7'),
      'a runner it did not create is not deleted',
    );
  });

  it('reconnects after the API restarts: health 503 while it is away, 200 once back; one deleted while connected is cut off, exit 1', async () => {
    const hp = await freePort();
    const p = runner([
      '-cc_id',
      'cc',
      '-np_id',
      'np',
      '--health-port',
      String(hp),
      '--data-dir',
      join(home, 'r3'),
    ]);
    const gone = runner(['-cc_id', 'cc', '-np_id', 'np', '--data-dir', join(home, 'r3-gone')]);
    const goneId = (await gone.waitFor(/runner (\S+) serving nodepool cc\/np/))[1]!;
    await p.waitFor(/serving nodepool cc\/np/);
    assert.equal(await health(hp), 200);
    const deleted = await rest(server, 'DELETE', '/v2/users/admin/compute_clusters/cc/nodepools/np/runners', {
      ids: [goneId],
    });
    assert.equal(deleted.status.code, 10000, JSON.stringify(deleted));
    // the API checks a connected runner again every beat: a deleted one is cut off at once
    assert.equal(await gone.exited, 1, gone.output());
    assert.match(gone.output(), /refused the runner stream: Runner does not exist/);
    assert.doesNotMatch(gone.output(), /could not delete/);
    await server.stop();
    await p.waitFor(/stream lost .*reconnecting in [\d.]+ s \(attempt 1\)/);
    assert.equal(await health(hp), 503);
    server = await startServer(port, serverData, env);
    procs.push(server);
    await until(() => health(hp), 200, 30_000);
    assert.equal(p.output().match(/serving nodepool/g)?.length, 1, 'the connected line is printed once');
    p.signal('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
  });

  it('a deployment on its nodepool is answered by the runner (--deployment_id and -cc_id/-np_id)', async () => {
    const dep = await rest(server, 'POST', '/v2/users/admin/deployments', {
      deployments: [
        {
          id: 'lang',
          worker: { model: { id: 'language-identification', user_id: 'clarifai', app_id: 'main' } },
          nodepools: [{ id: 'np', compute_cluster: { id: 'cc', user_id: 'admin' } }],
        },
      ],
    });
    assert.equal(dep.status.code, 10000, JSON.stringify(dep));
    const p = runner(['-cc_id', 'cc', '-np_id', 'np', '--verbose', '--data-dir', join(home, 'r4')]);
    await p.waitFor(/serving nodepool cc\/np/);
    const login = { ...env, CLARIFAI_API_BASE: server.url };
    const base = [
      'model',
      'predict',
      '--model_id',
      'language-identification',
      '--user_id',
      'clarifai',
      '--app_id',
      'main',
      '--bytes',
      TEXT,
      '--input_type',
      'text',
    ];
    // -dpl_usr_id: Sibyl's CLI takes the selector's owner from the model's user (clarifai) unless
    // told; Clarifai's SDK defaults to the key's user
    for (const route of [
      ['--deployment_id', 'lang', '-dpl_usr_id', 'admin'],
      ['-cc_id', 'cc', '-np_id', 'np', '-dpl_usr_id', 'admin'],
    ]) {
      const before =
        p.output().match(/item \S+ clarifai\/main\/language-identification: 10000/g)?.length ?? 0;
      const r = await runCli([...base, ...route], login);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\ben\b/);
      await p.waitFor(
        new RegExp(`(item \\S+ clarifai/main/language-identification: 10000[^\\n]*\\n[^]*){${before + 1}}`),
      );
    }
    p.signal('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
  });

  const nodeRunner = (dir: string) =>
    runner([
      '-cc_id',
      'cc',
      '-np_id',
      'np',
      '--concurrency',
      '2',
      '--verbose',
      '--data-dir',
      join(home, dir),
    ]);
  const predictLang = () =>
    rest(server, 'POST', '/v2/users/clarifai/apps/main/models/language-identification/outputs', {
      inputs: [{ data: { text: { raw: TEXT } } }],
      runner_selector: { deployment: { id: 'lang', user_id: 'admin' } },
    });
  /** `total` predictions through the deployment from 8 clients at once; the answers that failed. */
  const load = async (total: number) => {
    const failed: string[] = [];
    let answered = 0;
    let next = 0;
    const client = async () => {
      while (next < total) {
        next++;
        const res = await predictLang();
        answered++;
        if (res.status.code !== 10000) failed.push(JSON.stringify(res.status));
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    return { answered, failed };
  };
  const ITEM = /item \S+ clarifai\/main\/language-identification: 10000/;
  const items = (p: Proc, n: number) => p.waitFor(new RegExp(`(${ITEM.source}[^]*){${n}}`));

  it('killing a runner (SIGKILL) under load loses no prediction, and a runner that joins later gets work', async () => {
    const a = nodeRunner('ka');
    const b = nodeRunner('kb');
    await Promise.all([a.waitFor(/serving nodepool/), b.waitFor(/serving nodepool/)]);
    const running = load(240);
    await items(a, 10);
    a.signal('SIGKILL');
    const late = nodeRunner('kc');
    await late.waitFor(/serving nodepool/);
    const { answered, failed } = await running;
    assert.equal(answered, 240);
    assert.deepEqual(failed, [], 'every prediction succeeded');
    assert.equal(await a.exited, 'SIGKILL');
    // with two live runners sharing the work, the one that joined late gets some of it
    const more = await load(24);
    assert.deepEqual(more.failed, []);
    await late.waitFor(ITEM);
    for (const p of [b, late]) {
      p.signal('SIGTERM');
      assert.equal(await p.exited, 0, p.output());
    }
  });

  it('SIGTERM under load: the runner finishes what it holds, exits 0, and no prediction is lost', async () => {
    const a = nodeRunner('ta');
    const b = nodeRunner('tb');
    await Promise.all([a.waitFor(/serving nodepool/), b.waitFor(/serving nodepool/)]);
    const running = load(160);
    await items(a, 10);
    a.signal('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    assert.doesNotMatch(a.output(), /dropped/, 'every item it took was answered on its stream');
    const { answered, failed } = await running;
    assert.equal(answered, 160);
    assert.deepEqual(failed, []);
    b.signal('SIGTERM');
    assert.equal(await b.exited, 0, b.output());
  });

  it('an item for a model it does not serve gets an error naming the model; --models serves it by id', async () => {
    const folder = await onnxClassifierFolder(join(home, 'models', 'colour'), {
      model: { user_id: 'admin', app_id: 'models' },
    });
    const login = { ...env, CLARIFAI_API_BASE: server.url };
    const up = await runCli(['model', 'upload', folder], login);
    assert.equal(up.code, 0, up.stderr);
    const dep = await rest(server, 'POST', '/v2/users/admin/deployments', {
      deployments: [
        {
          id: 'colours',
          worker: { model: { id: 'colour-classifier', user_id: 'admin', app_id: 'models' } },
          nodepools: [{ id: 'np', compute_cluster: { id: 'cc', user_id: 'admin' } }],
        },
      ],
    });
    assert.equal(dep.status.code, 10000, JSON.stringify(dep));
    const red = join(home, 'red.png');
    writeFileSync(red, await solidPng(RGB.red));
    const predict = () =>
      runCli(
        [
          'model',
          'predict',
          '--model_id',
          'colour-classifier',
          '--user_id',
          'admin',
          '--app_id',
          'models',
          '--deployment_id',
          'colours',
          '--file_path',
          red,
        ],
        login,
      );
    const without = runner(['-cc_id', 'cc', '-np_id', 'np', '--data-dir', join(home, 'm1')]);
    await without.waitFor(/serving nodepool/);
    // over REST, to read the runner's words: the CLI puts its own did-you-mean on a 21200
    const refused = await rest(
      server,
      'POST',
      '/v2/users/admin/apps/models/models/colour-classifier/outputs',
      {
        inputs: [{ data: { image: { base64: readFileSync(red).toString('base64') } } }],
        runner_selector: { deployment: { id: 'colours', user_id: 'admin' } },
      },
    );
    assert.equal(refused.status.code, 21200, JSON.stringify(refused));
    assert.match(
      refused.status.details ?? '',
      /this runner does not serve the model admin\/models\/colour-classifier; it serves the built-in models/,
    );
    await without.stop();
    const withModels = runner([
      '-cc_id',
      'cc',
      '-np_id',
      'np',
      '--models',
      join(home, 'models'),
      '--data-dir',
      join(home, 'm2'),
    ]);
    await withModels.waitFor(/serving nodepool/);
    const r = await predict();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[1] ?? '', /^red\b/);
    withModels.signal('SIGTERM');
    assert.equal(await withModels.exited, 0, withModels.output());
  });
});
