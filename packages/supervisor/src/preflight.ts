import { createServer } from 'node:net';
import { type FrontendConfig, formatHostPort, RustlbError } from '@rustlb/core';

/**
 * Binds and releases each address, so that a taken port is reported (exit 1 at start, a
 * rejected reload later) before any worker is asked to listen there.
 */
export async function preflight(frontends: readonly FrontendConfig[]): Promise<void> {
  for (const f of frontends) {
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(
          new RustlbError('RLB_ERR_BIND', `frontend "${f.name}" cannot listen on ${formatHostPort(f.listen)}: ${why}`, {
            details: { code: err.code, address: formatHostPort(f.listen) },
          }),
        );
      });
      s.listen({ host: f.listen.host, port: f.listen.port, exclusive: true }, () => s.close(() => resolve()));
    });
  }
}
