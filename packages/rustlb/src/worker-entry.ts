// A worker process starts here (the primary forks this module, not the CLI), so workers
// load neither yargs nor the config loader.
import { runWorker } from '@rustlb/worker';

runWorker();
