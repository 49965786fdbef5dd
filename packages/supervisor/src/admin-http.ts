import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { isRustlbError, type MetricsSettings, RustlbError, type StatusPageSettings } from '@rustlb/core';
import type { Logger } from '@rustlb/telemetry';

/** One named check of a probe, for `?verbose`. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What the status page's buttons may do: the `rustlb-ctl` commands of the same names. */
export const STATUS_ACTIONS = ['drain', 'disable', 'enable'] as const;
export type StatusAction = (typeof STATUS_ACTIONS)[number];

export interface AdminSources {
  liveness(): Check[];
  readiness(): Check[];
  scrape(): Promise<{ contentType: string; body: string }>;
  /** The status page's settings in force (they follow reloads). */
  statusSettings(): StatusPageSettings;
  /** `/status.json`. */
  statusData(): Promise<unknown>;
  /** Runs `rustlb-ctl ACTION SERVER`'s command; throws its error. */
  statusAction(action: StatusAction, server: string): Promise<unknown>;
}

/** The header the status page sends its token in. */
export const TOKEN_HEADER = 'x-rustlb-token';

/**
 * The page loads nothing but its own files: no inline script or style, no other origin,
 * not framed. `data:` images only for the empty favicon.
 */
export const STATUS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'Content-Security-Policy': STATUS_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** An action's request body is a small JSON object. */
const MAX_ACTION_BODY = 4096;

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** The page's files, served under /status/; read once, on first use. */
function loadAssets(): Map<string, Asset> {
  const dir = new URL('../../assets/', import.meta.url);
  const require = createRequire(import.meta.url);
  const own = (name: string) => readFileSync(new URL(name, dir));
  return new Map<string, Asset>([
    ['/status', { type: 'text/html; charset=utf-8', body: own('status.html') }],
    ['/status/status.js', { type: 'text/javascript; charset=utf-8', body: own('status.js') }],
    ['/status/status.css', { type: 'text/css; charset=utf-8', body: own('status.css') }],
    // uPlot, the chart library, from the package rustlb bundles: nothing comes from a CDN.
    ['/status/uplot.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) }],
    ['/status/uplot.css', { type: 'text/css; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) }],
  ]);
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** Compares in constant time (hashes first, so the length does not show either). */
export function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The primary's HTTP server on `global.metrics.address`: Prometheus metrics (when
 * enabled), the Kubernetes probes `/livez` (alias `/healthz`) and `/readyz`, which
 * answer JSON with the reason (`?verbose` lists each check), and the status page:
 * `/status`, its files under `/status/`, `/status.json`, and `POST /status/actions`.
 */
export class AdminHttp {
  readonly #server: Server;
  readonly #settings: MetricsSettings;
  readonly #sources: AdminSources;
  readonly #logger: Logger;
  #assets: Map<string, Asset> | null = null;

  constructor(settings: MetricsSettings, sources: AdminSources, logger: Logger) {
    this.#settings = settings;
    this.#sources = sources;
    this.#logger = logger;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  /**
   * Binds `global.metrics.address`, unless metrics and probes are both off: then nothing
   * is bound there, as the original bound nothing with `metrics.enabled: false`.
   */
  listen(): Promise<void> {
    if (!this.#settings.enabled && !this.#settings.probes) return Promise.resolve();
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
    if (!this.#server.listening) return;
    this.#server.close();
    this.#server.closeAllConnections();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const verbose = q >= 0 && /(^|&)verbose(=|&|$)/.test(url.slice(q + 1));
    if (!this.#settings.probes && path !== this.#settings.path) {
      this.#send(res, 404, 'text/plain', 'not found (the probes and the status page are off: global.metrics.probes: false)\n');
    } else if (path === '/status' || path === '/status.json' || path.startsWith('/status/')) {
      this.#status(req, res, path);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
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

  /** Served on loopback, or anywhere when `global.admin.status: true`; never when false. */
  #statusServed(): boolean {
    const enabled = this.#sources.statusSettings().enabled;
    return enabled ?? isLoopback(this.#settings.address.host);
  }

  #status(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (!this.#statusServed()) {
      const off = this.#sources.statusSettings().enabled === false;
      this.#send(
        res,
        404,
        'text/plain',
        off
          ? 'the status page is off (global.admin.status: false)\n'
          : 'the status page is not served on a non-loopback address unless global.admin.status: true (or use kubectl port-forward to a loopback address)\n',
      );
      return;
    }
    if (path === '/status/') {
      // The page's files are relative to /status.
      res.writeHead(308, { Location: '/status', 'Content-Length': 0, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (path === '/status/actions') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        this.#json(res, 405, { error: 'POST an action' });
      } else this.#action(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      this.#send(res, 405, 'text/plain', 'method not allowed\n');
      return;
    }
    if (path === '/status.json') {
      this.#sources.statusData().then(
        (data) => this.#json(res, 200, data),
        (err: unknown) => {
          this.#logger.error({ err }, 'status page data failed');
          this.#json(res, 500, { error: 'status unavailable' });
        },
      );
      return;
    }
    let asset: Asset | undefined;
    try {
      this.#assets ??= loadAssets();
      asset = this.#assets.get(path);
    } catch (err) {
      this.#logger.error({ err }, 'status page files cannot be read');
      this.#send(res, 500, 'text/plain', 'status page files missing\n');
      return;
    }
    if (asset === undefined) {
      this.#send(res, 404, 'text/plain', 'not found\n');
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  /** `POST /status/actions` `{"action":"drain","server":"BACKEND/ADDRESS"}` with the token in X-Rustlb-Token. */
  #action(req: IncomingMessage, res: ServerResponse): void {
    const { actions, token } = this.#sources.statusSettings();
    if (!actions || token === null) {
      req.resume();
      this.#json(res, 403, {
        error: actions ? 'status page actions need global.admin.token' : 'status page actions are off (global.admin.status_actions: false)',
      });
      return;
    }
    const given = req.headers[TOKEN_HEADER];
    if (typeof given !== 'string' || given === '') {
      req.resume();
      this.#json(res, 401, { error: `missing token: send it in the ${TOKEN_HEADER} header` });
      return;
    }
    if (!sameToken(given, token)) {
      req.resume();
      this.#logger.warn({ remoteAddress: req.socket.remoteAddress }, 'status page action refused: wrong token');
      this.#json(res, 403, { error: 'wrong token' });
      return;
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      this.#json(res, 415, { error: 'send the action as application/json' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ACTION_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_ACTION_BODY) return this.#json(res, 413, { error: 'request too large' });
      let body: { action?: unknown; server?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return this.#json(res, 400, { error: 'the body is JSON: {"action":"drain","server":"BACKEND/ADDRESS"}' });
      }
      const action = body?.action;
      if (typeof action !== 'string' || !(STATUS_ACTIONS as readonly string[]).includes(action)) {
        return this.#json(res, 400, { error: `action is one of ${STATUS_ACTIONS.join(', ')}` });
      }
      if (typeof body.server !== 'string') return this.#json(res, 400, { error: 'server is BACKEND/ADDRESS' });
      const server = body.server;
      this.#logger.info({ action, server, remoteAddress: req.socket.remoteAddress }, 'status page action');
      this.#sources.statusAction(action as StatusAction, server).then(
        (result) => this.#json(res, 200, { ok: true, result }),
        (err: unknown) => {
          if (isRustlbError(err)) this.#json(res, err.code === 'RLB_ERR_CONTROL_REQUEST' ? 400 : 409, { error: err.message, code: err.code });
          else {
            this.#logger.error({ err, action, server }, 'status page action failed');
            this.#json(res, 500, { error: 'action failed' });
          }
        },
      );
    });
  }

  #json(res: ServerResponse, status: number, value: unknown): void {
    const body = `${JSON.stringify(value)}\n`;
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
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
