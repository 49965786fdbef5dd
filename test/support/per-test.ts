import { afterEach } from 'node:test';
import { type HttpUpstream, RustlbProcess, startHttpUpstream } from '@rustlb/testkit';

/**
 * Helpers for test files whose tests each start their own rustlb and upstreams:
 * everything a test started is stopped when that test ends, so the next one has the CPU.
 * Call once at the top of the file.
 */
export function perTest(): {
  upstream(name: string): Promise<HttpUpstream>;
  rustlb(config: Record<string, unknown>, workers: number): Promise<RustlbProcess>;
  cleanup(stop: () => Promise<unknown>): void;
} {
  let stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    const now = stops.reverse();
    stops = [];
    for (const stop of now) await stop();
  });
  return {
    async upstream(name) {
      const u = await startHttpUpstream(name);
      stops.push(() => u.close());
      return u;
    },
    async rustlb(config, workers) {
      const lb = await RustlbProcess.start({ config, workers, waitReady: false });
      stops.push(() => lb.dispose());
      // Generous: other suites load this small machine at the same time.
      await lb.waitReady(45_000);
      return lb;
    },
    cleanup(stop) {
      stops.push(stop);
    },
  };
}
