/**
 * deploy/'s Kubernetes manifests: every document matches the Kubernetes schemas (through
 * scripts/validate-deploy.mjs, as CI runs it), the validator refuses real mistakes naming the file,
 * kind and field, and the manifests agree with the server: probes on its liveness and readiness
 * routes, ports on its defaults, and a ConfigMap whose SIBYL_* values `clarifai serve` accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

import { buildProgram } from '../../src/cli/program.js';
import { READY_PATH } from '../../src/server/routes/observability.js';
import { isolatedEnv, ROOT } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';

const DEPLOY = join(ROOT, 'deploy');
const SCRIPT = join(ROOT, 'scripts/validate-deploy.mjs');

interface Validated {
  code: number;
  stdout: string;
  stderr: string;
}

async function validate(dir: string): Promise<Validated> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, dir]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as plain YAML */
function docs(file: string): any[] {
  return parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8')).map((d) => d.toJS());
}
function one(file: string, kind: string): any {
  const found = docs(file).find((d) => d.kind === kind);
  assert.ok(found, `${file} has a ${kind}`);
  return found;
}
function namedPort(container: any, name: string): number {
  const port = container.ports.find((p: any) => p.name === name);
  assert.ok(port, `container ${container.name} names a port ${name}`);
  return port.containerPort;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function serveCommand() {
  const serve = buildProgram({}, '0.0.0').commands.find((c) => c.name() === 'serve');
  assert.ok(serve, 'the CLI has a serve command');
  return serve;
}

describe('deploy/ Kubernetes manifests', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sibyl-deploy-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let copies = 0;
  /** A copy of deploy/ with one file changed by `edit`, which must change it. */
  const broken = (file: string, edit: (text: string) => string): string => {
    const dir = join(scratch, `copy-${++copies}`);
    cpSync(DEPLOY, dir, { recursive: true });
    const before = readFileSync(join(dir, file), 'utf8');
    const text = edit(before);
    assert.notEqual(text, before, `the edit of ${file} changed nothing`);
    writeFileSync(join(dir, file), text);
    return dir;
  };
  /** The validator fails on `dir` with exactly one problem, this line (or a line it matches). */
  const refuses = async (dir: string, problem: string | RegExp) => {
    const r = await validate(dir);
    assert.equal(r.code, 1, `expected a failure, got:\n${r.stdout}${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    if (typeof problem === 'string') assert.equal(lines[0], problem, r.stderr);
    else assert.match(lines[0] ?? '', problem, r.stderr);
    assert.match(lines[1] ?? '', /^1 problem\(s\) in \d+ documents under /, r.stderr);
  };

  it('every document, the rendered kustomization and the files applied on their own, matches the schemas', async () => {
    const r = await validate(DEPLOY);
    assert.equal(r.code, 0, r.stderr);
    // 7 rendered resources, then api-hpa (1), postgres-trial (2) and secrets.example (2) as they are
    assert.match(r.stdout, /^12 documents under .*deploy match the Kubernetes schemas$/m);
  });

  it('refuses a field of the wrong type', async () => {
    const dir = broken('api-deployment.yaml', (t) =>
      t.replace('containerPort: 8080', "containerPort: '8080'"),
    );
    await refuses(
      dir,
      'api-deployment.yaml: Deployment sibyl-api: spec.template.spec.containers[0].ports[0].containerPort: must be a whole number',
    );
  });

  it('refuses an unknown field, naming the one meant', async () => {
    const dir = broken('api-deployment.yaml', (t) => t.replace('periodSeconds: 5\n', 'periodSecond: 5\n'));
    await refuses(
      dir,
      /^api-deployment\.yaml: Deployment sibyl-api: spec\.template\.spec\.containers\[0\]\.readinessProbe\.periodSecond: unknown field \(did you mean periodSeconds\?\); Probe has: exec, failureThreshold, /,
    );
    const top = broken('api-service.yaml', (t) => t.replace('spec:\n', 'spec:\n  clusterIp: None\n'));
    await refuses(
      top,
      // the same field kubectl would refuse, with the spelling it knows
      /^api-service\.yaml: Service sibyl-api: spec\.clusterIp: unknown field \(did you mean clusterIP\?\); ServiceSpec has: .*\bclusterIP\b/,
    );
  });

  it('refuses a missing required field', async () => {
    const dir = broken('runner-cpu-pool.yaml', (t) => t.replace('- name: runner\n', '- \n'));
    await refuses(
      dir,
      'runner-cpu-pool.yaml: Deployment sibyl-runner-cpu-pool: spec.template.spec.containers[0].name: required field missing',
    );
  });

  it('checks the files applied on their own too, and refuses a kind it has no schema for', async () => {
    const dir = broken('postgres-trial.yaml', (t) => t.replace('kind: StatefulSet', 'kind: StatefullSet'));
    await refuses(
      dir,
      'postgres-trial.yaml: StatefullSet postgres: kind: no Kubernetes schema for apiVersion apps/v1, kind StatefullSet (a misspelt kind or version, or a custom resource)',
    );
  });

  it('refuses a kustomization key it would not render, instead of ignoring it', async () => {
    const dir = broken('kustomization.yaml', (t) => `${t}patches:\n  - path: extra.yaml\n`);
    const r = await validate(dir);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /kustomization\.yaml: "patches" is not rendered by scripts\/validate-deploy\.mjs; it renders: apiVersion, kind, namespace, resources, images/,
    );
  });

  it("probes the API's liveness and readiness routes on the server's default port", () => {
    const api = one('api-deployment.yaml', 'Deployment').spec.template.spec.containers[0];
    const port = serveCommand().options.find((o) => o.long === '--port');
    assert.equal(namedPort(api, 'http'), Number(port?.defaultValue));
    assert.equal(api.livenessProbe.httpGet.path, '/health');
    assert.equal(api.startupProbe.httpGet.path, '/health');
    assert.equal(api.readinessProbe.httpGet.path, READY_PATH);
    for (const probe of [api.livenessProbe, api.readinessProbe, api.startupProbe])
      assert.equal(probe.httpGet.port, 'http');
    assert.equal(namedPort(api, 'oip'), 8081);
    const service = one('api-service.yaml', 'Service');
    assert.deepEqual(
      service.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [
        p.name,
        p.port,
        p.targetPort,
      ]),
      [
        ['http', 8080, 'http'],
        ['oip', 8081, 'oip'],
      ],
    );
    // the data directory the args name is the shared volume
    const dataDir = api.args[api.args.indexOf('--data-dir') + 1];
    assert.equal(api.volumeMounts.find((m: { name: string }) => m.name === 'data').mountPath, dataDir);
    assert.equal(
      api.env.find((e: { name: string }) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name,
      'sibyl-database',
    );
  });

  it("probes each runner's health port, the one its --health-port names", () => {
    const runner = one('runner-cpu-pool.yaml', 'Deployment').spec.template.spec.containers[0];
    const healthPort = Number(runner.args[runner.args.indexOf('--health-port') + 1]);
    assert.equal(namedPort(runner, 'health'), healthPort);
    for (const probe of [runner.livenessProbe, runner.readinessProbe]) {
      assert.equal(probe.httpGet.path, '/health');
      assert.equal(probe.httpGet.port, 'health');
    }
    assert.equal(runner.args[runner.args.indexOf('--api-url') + 1], 'http://sibyl-api:8080');
    assert.equal(
      runner.env.find((e: { name: string }) => e.name === 'CLARIFAI_PAT').valueFrom.secretKeyRef.name,
      'sibyl-runner',
    );
  });

  it('keeps the ConfigMap to serve flags, and its values start a real server whose probe routes answer', async () => {
    const config = one('api-configmap.yaml', 'ConfigMap').data as Record<string, string>;
    const variables = serveCommand()
      .options.filter(
        (o) => o.long && !['--config', '--data-dir', '--database-url', '--help'].includes(o.long),
      )
      .map(
        (o) =>
          `SIBYL_${o
            .long!.replace(/^--(no-)?/, '')
            .toUpperCase()
            .replace(/-/g, '_')}`,
      );
    for (const key of Object.keys(config))
      assert.ok(
        variables.includes(key),
        `${key} is not a clarifai serve variable; they are: ${variables.join(', ')}`,
      );
    assert.equal(Number(config.SIBYL_PORT), 8080);
    // the ConfigMap's values as the pod gets them; --port 0 and --host 127.0.0.1 (flags win) keep
    // the test on a free loopback port
    const env = isolatedEnv(config);
    delete env.DATABASE_URL;
    const served = await startServe(['--host', '127.0.0.1'], env);
    try {
      for (const path of ['/health', READY_PATH]) {
        const res = await fetch(`${served.url}${path}`);
        assert.equal(res.status, 200, `${path} answers 200 once serving`);
      }
      // SIBYL_METRICS_PUBLIC=false: /metrics still needs an admin key
      assert.notEqual((await fetch(`${served.url}/metrics`)).status, 200);
    } finally {
      await served.stop();
    }
    // SIBYL_LOG_FORMAT=json: the request lines are JSON objects
    const lines = served
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    assert.ok(
      lines.some((l) => (JSON.parse(l) as { path?: string }).path === READY_PATH),
      served.output(),
    );
  });
});
