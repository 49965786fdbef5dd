import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type MetricsSettings, RustlbError } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';

/** One named check of a probe, for `?verbose`. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface AdminSources {
  liveness(): Check[];
  readiness(): Check[];
  scrape(): Promise<{ contentType: string; body: string }>;
}

/**
 * The primary's HTTP server on `global.metrics.address`: Prometheus metrics (when
 * enabled) and the Kubernetes probes `/livez` (alias `/healthz`) and `/readyz`, which
 * answer JSON with the reason; `?verbose` lists each check.
 */
export class AdminHttp {
  readonly #server: Server;
  readonly #settings: MetricsSettings;
  readonly #sources: AdminSources;
  readonly #logger: Logger;

  constructor(settings: MetricsSettings, sources: AdminSources, logger: Logger) {
    this.#settings = settings;
    this.#sources = sources;
    this.#logger = logger;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  listen(): Promise<void> {
    const { host, port } = this.#settings.address;
    return new Promise((resolve, reject) => {
      this.#server.once('error', (err: NodeJS.ErrnoException) => {
        const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        reject(
          new RustlbError('RLB_ERR_BIND', `metrics server cannot listen on ${where}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`, {
            cause: err,
            details: { code: err.code, address: where },
          }),
        );
      });
      this.#server.listen({ host, port }, () => resolve());
    });
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const verbose = q >= 0 && /(^|&)verbose(=|&|$)/.test(url.slice(q + 1));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#send(res, 405, 'text/plain', 'method not allowed\n');
    } else if (path === '/livez' || path === '/healthz') {
      this.#probe(res, 'live', this.#sources.liveness(), verbose);
    } else if (path === '/readyz') {
      this.#probe(res, 'ready', this.#sources.readiness(), verbose);
    } else if (path === this.#settings.path && this.#settings.enabled) {
      this.#sources.scrape().then(
        (m) => this.#send(res, 200, m.contentType, m.body),
        (err: unknown) => {
          this.#logger.error({ err }, 'metrics scrape failed');
          this.#send(res, 500, 'text/plain', 'metrics unavailable\n');
        },
      );
    } else if (path === this.#settings.path) {
      this.#send(res, 404, 'text/plain', 'metrics are disabled (global.metrics.enabled: false); /livez and /readyz are served\n');
    } else {
      this.#send(res, 404, 'text/plain', 'not found\n');
    }
  }

  #probe(res: ServerResponse, what: string, checks: Check[], verbose: boolean): void {
    const failed = checks.filter((c) => !c.ok);
    const ok = failed.length === 0;
    const body: Record<string, unknown> = {
      status: ok ? what : `not ${what}`,
      reason: ok ? 'all checks passed' : failed.map((c) => `${c.name}: ${c.detail}`).join('; '),
    };
    if (verbose) body.checks = checks;
    this.#send(res, ok ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
  }

  #send(res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  }
}
