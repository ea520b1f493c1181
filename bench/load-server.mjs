// One server for bench/load.mjs, in a process of its own so the load generator never shares its
// event loop and its CPU time can be read from /proc apart from the client's. Forked with an IPC
// channel; sends {url, pat} once it listens and exits when the channel closes (the bench ended,
// whichever way it ended), so no server outlives its run.
//
//   mode `serve`: startServer, what `clarifai serve > file` runs (PAT auth, the text request log
//                 on stdout, Prometheus metrics, gRPC sniffed on the port)
//   mode `on`:    openServerApp + listen, with PAT auth, the text request log and metrics
//   mode `off`:   the same app without the three: no Authorization header needed, every request
//                 acts as the admin user (the `localUserId` the embedded transport uses, so the
//                 routes do the same work for the same user), no log line, no metrics
//
// `on` and `off` differ in those three things alone; stdout is a file the bench opened, so a log
// line costs what it costs `clarifai serve` redirected to a file (a synchronous write).
import { bootstrapPat } from './serve-process.mjs';

const [mode, dataDir] = process.argv.slice(2);
const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
const logLine = (line) => process.stdout.write(`${line}\n`);

async function start() {
  if (mode === 'serve') {
    const { startServer } = await dist('server/main.js');
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      allowPrivateUrls: false,
      logRequest: logLine,
    });
    return server.url;
  }
  const [{ openServerApp }, { writeBootstrapFile }, { Metrics }] = await Promise.all([
    dist('server/open.js'),
    dist('server/bootstrap.js'),
    dist('server/metrics.js'),
  ]);
  const on = mode === 'on';
  const metrics = on ? new Metrics() : undefined;
  const server = await openServerApp({
    dataDir,
    allowPrivateUrls: false,
    warmUp: true,
    actAsAdmin: !on,
    ...(on ? { logRequest: logLine, onTiming: metrics.onTiming, http: { metrics } } : {}),
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${server.app.server.address().port}`;
  await writeBootstrapFile(server.store, dataDir, url);
  return url;
}

process.on('disconnect', () => process.exit(0));
try {
  const url = await start();
  process.send({ url, pat: bootstrapPat(dataDir) });
} catch (err) {
  process.send({ error: err instanceof Error ? err.stack : String(err) });
  process.exit(1);
}
