export { Reporter } from './reporter.js';
export { runWorker, Worker, type WorkerEnv, workerEnv } from './worker.js';
