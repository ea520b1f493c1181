import { sub, type Command, type Env } from './program-helpers.js';

/**
 * `clarifai serve`: the self-hosted server. Every option also comes from its SIBYL_<NAME> variable
 * or the `--config` file (commands/serve-config.ts layers them); the server is imported only when
 * the command runs.
 */
export function registerServe(program: Command, env: Env): void {
  sub(
    program,
    'serve',
    "Run the self-hosted v2 API server on this machine: REST JSON, Clarifai's V2 gRPC and gRPC-web on one port, PAT auth.",
    [
      'clarifai serve --port 8080',
      'clarifai serve --port 8080 --data-dir ./sibyl-data --models ./model-repository',
      'clarifai serve --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem --grpc-port 50051',
      'clarifai serve --cors-origin https://app.example.com',
    ],
  )
    .option(
      '--config <FILE>',
      'YAML file of these options, keys as the flags without -- (port: 8080, rate-limit: 10). Each option comes from its flag, else its variable SIBYL_<NAME> (SIBYL_RATE_LIMIT=10), else this file, else its default',
    )
    .option('--host <HOST>', 'Address to listen on', '127.0.0.1')
    .option('--port <PORT>', 'Port to listen on (0 picks a free one)', '8080')
    .option('--data-dir <PATH>', 'Data directory (default: $SIBYL_HOME, else $XDG_DATA_HOME/sibyl)')
    .option(
      '--database-url <URL>',
      'Keep users, keys, models and inputs in Postgres (postgres://user:pass@host:port/db) instead of the data directory; env: DATABASE_URL',
    )
    .option('--allow-private-urls', 'Let URL inputs reach loopback, private and link-local addresses')
    .option('--quiet', 'Do not print a line per request')
    .option(
      '--log-format <FORMAT>',
      'Request log: text lines, or json (one object per request; server faults with their stack) (default: text)',
    )
    .option(
      '--metrics-public',
      "Serve GET /metrics without a key (default: an admin key, as metrics name every user's models)",
    )
    .option('--models <DIR>', 'Also serve every model folder under DIR (each with a config.yaml), in place')
    .option('--workers <N>', 'Worker threads that run models (default: one per core)')
    .option('--idle-unload <SECONDS>', 'Unload a model unused this long (0: never)', '300')
    .option('--memory-budget <MIB>', 'Keep loaded models within about this many MiB (default: half the RAM)')
    .option('--max-upload <MIB>', 'Largest model upload, all files together', '8192')
    .option(
      '--rate-limit <N>',
      'Requests a second each key may send, in bursts of up to 2N; past it 429 with Retry-After (0: no limit)',
      '0',
    )
    .option(
      '--body-budget <MIB>',
      'Memory for all request bodies in flight together, at least 64; past it requests get 503 with Retry-After (default: 512)',
    )
    .option(
      '--request-timeout <SECONDS>',
      'Longest a request may take to arrive in full; a dripped body is cut off with 408 (default: 120)',
    )
    .option(
      '--max-connections <N>',
      'Open connections per port; past it new ones are closed at once (default: 768)',
    )
    .option(
      '--url-downloads <N>',
      'URL inputs downloaded at once, server-wide; up to 64N more wait, past that requests get 429 with Retry-After (default: 16)',
    )
    .option(
      '--url-deadline <SECONDS>',
      'All URL inputs of one request must download within this (default: 60)',
    )
    .option('--grpc-port <PORT>', 'Also serve gRPC alone on this port (gRPC is on --port already)')
    .option(
      '--oip-port <PORT>',
      'Also serve the Open Inference Protocol v2 (KServe/Triton) at its plain paths on this port (it is under /oip on --port already)',
    )
    .option(
      '--tls-cert <FILE>',
      'PEM certificate: every port speaks TLS (https, gRPC over TLS); with --tls-key',
    )
    .option('--tls-key <FILE>', 'PEM private key of --tls-cert')
    .option('--no-grpc', 'REST only on --port: no gRPC, no gRPC-web (--grpc-port still serves gRPC)')
    .option(
      '--cors-origin <ORIGIN>',
      'Let browser pages from ORIGIN (scheme://host[:port], or *) call the API; repeatable (default: none)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (_opts, cmd: Command) => {
      const { layeredServeOptions, withSource } = await import('./commands/serve-config.js');
      const { opts, sources } = await layeredServeOptions(cmd, env);
      return withSource((await import('./commands/serve.js')).run(opts, env), sources);
    });
}
