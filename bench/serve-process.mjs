// `clarifai serve` for the benchmarks: started in its own process group on a free port, stopped
// (the whole group) on request or when the bench process exits on any path.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'clarifai.js');

/**
 * A child environment with no Clarifai login (every CLARIFAI_* variable dropped, its own
 * SIBYL_HOME and config folder), so the CLI takes the embedded path and nothing of the user's
 * own config is touched; no NODE_OPTIONS, so a child is measured as it would run.
 */
export function childEnv(home, config = home) {
  const env = { ...process.env, SIBYL_HOME: home, XDG_CONFIG_HOME: config };
  for (const key of Object.keys(env)) if (key.startsWith('CLARIFAI_')) delete env[key];
  delete env.NODE_OPTIONS;
  return env;
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Starts `clarifai serve --port 0 --quiet ...args`. `listening` resolves with its base URL once it
 * prints its login line; `stop` ends the group (SIGTERM, then SIGKILL after 5 s) and waits.
 */
export function startServe(args, env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--port', '0', '--quiet', ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
  };
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http\S+)/.exec(out);
      if (m && out.includes('clarifai login --config')) resolve(m[1]);
    });
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`serve did not listen within 60 s:\n${out}`)), 60_000).unref();
  });
  return { listening, stop, pid: child.pid };
}

/** The admin key a fresh data directory's server wrote to its bootstrap.yaml. */
export function bootstrapPat(dataDir) {
  const pat = /pat: (\S+)/.exec(readFileSync(path.join(dataDir, 'bootstrap.yaml'), 'utf8'))?.[1];
  if (!pat) throw new Error(`no pat in ${dataDir}/bootstrap.yaml`);
  return pat;
}
