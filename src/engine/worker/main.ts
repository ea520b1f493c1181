import { parentPort, workerData } from 'node:worker_threads';
import { WorkerHost } from './host.js';
import type { FromWorker, ToWorker, WorkerSettings } from './protocol.js';

/** The worker thread's entry point: every message from the engine goes to one WorkerHost. */
if (!parentPort) throw new Error('engine/worker/main.js runs only as a worker thread');
const port = parentPort;
const host = new WorkerHost(workerData as WorkerSettings, (msg: FromWorker) => port.postMessage(msg));
port.on('message', (msg: ToWorker) => void host.handle(msg));
