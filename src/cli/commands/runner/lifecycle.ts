import { RunnerApi } from '../../../runner/api.js';
import { LocalEngine, type ModelId } from '../../../runner/local-engine.js';
import { Runner, type RunnerConfig } from '../../../runner/runner.js';
import type { ApiTarget } from './start.js';

export interface ServeOptions extends Omit<RunnerConfig, 'api' | 'engine' | 'log' | 'userId'> {
  target: ApiTarget;
  dataDir: string;
  modelsDir?: string;
  preload: ModelId[];
  workers?: number;
}

/**
 * Opens the local engine, registers and serves until SIGTERM or SIGINT (or the API ends the
 * stream), then stops cleanly: items in hand finish and are answered, the stream is half-closed,
 * the runner deleted if this process created it. A second signal exits at once.
 */
export async function serveRunner(opts: ServeOptions): Promise<void> {
  const { target, dataDir, modelsDir, preload, workers, ...config } = opts;
  let runner: Runner | undefined;
  let signals = 0;
  // installed first: a signal while the engine opens stops the start instead of killing it midway
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    void runner?.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const engine = await LocalEngine.open({
      dataDir,
      preload,
      ...(modelsDir ? { modelsDir } : {}),
      ...(workers !== undefined ? { workers } : {}),
    });
    const api = new RunnerApi(target.url, target.pat);
    try {
      if (signals > 0) return;
      runner = new Runner({
        ...config,
        api,
        engine,
        userId: target.userId,
        log: (line) => process.stdout.write(`${line}\n`),
      });
      await runner.run();
    } finally {
      api.close();
      await engine.close();
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
