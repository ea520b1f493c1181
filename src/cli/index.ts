import { readFileSync } from 'node:fs';
import { ArgsError } from './args/errors.js';
import { rewriteAliases } from './argv.js';
import { buildProgram } from './program.js';

/** The `clarifai` entry point: parse, run, and turn any error into one line and an exit code. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  // `clarifai ... | head` closes the pipe early: that is the reader being done, not an error
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  const program = buildProgram(env, version);
  try {
    await program.parseAsync(rewriteAliases(argv.slice(2)));
    return 0;
  } catch (err) {
    // loaded only now: its imports (core's and the SDK's error types and status codes) would slow `--help`
    const { describeError, EXIT_USAGE } = await import('./errors.js');
    if (err instanceof ArgsError) {
      // a command group named alone prints its help, on stderr as it is not what was asked for
      process.stderr.write(err.help ?? `error: ${err.message} (see --help)\n`);
      return EXIT_USAGE;
    }
    const { line, exitCode } = describeError(err);
    process.stderr.write(`${line}\n`);
    if (env.SIBYL_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCode;
  }
}

/** Read from package.json only for `--version`. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}
