import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type Algorithm,
  type BackendConfig,
  type FrontendConfig,
  type HeaderRule,
  type HealthCheckSettings,
  type HostPort,
  type LogFormat,
  type LogLevel,
  parseHostPort,
  type ResolvedConfig,
} from '@rustlb/core';
import type { RawConfig, RawFrontend } from './raw.js';
import type { TlsCheck } from './tls-files.js';
import { parseSize, timerMs } from './units.js';

/**
 * Where the control socket lives when `global.admin.socket` is not set: in the system
 * temporary directory, named after the config file's absolute path, so two instances
 * never collide and `rustlb-ctl -c FILE` computes the same path.
 */
export function defaultAdminSocket(configFile: string | null): string {
  const id = configFile === null ? 'default' : createHash('sha256').update(resolve(configFile)).digest('hex').slice(0, 12);
  return join(tmpdir(), `rustlb-${id}.sock`);
}

/**
 * A relative `global.admin.socket` is relative to the config file's directory, not to
 * the working directory: rustlb and rustlb-ctl (started from anywhere) agree on it.
 */
export function socketPath(socket: string, configFile: string | null): string {
  return configFile === null ? resolve(socket) : resolve(dirname(resolve(configFile)), socket);
}

// The schema accepted these, so they parse. Timers get at most ~24.8 days (Node's longest).
const ms = (s: string): number => timerMs(s) as number;
const hostPort = (s: string): HostPort => parseHostPort(s) as HostPort;

function headerRules(map: Record<string, string | number | boolean>): HeaderRule[] {
  return Object.entries(map).map(([name, value]) => ({ name, value: String(value) }));
}

function resolver(text: string): HostPort {
  return isIP(text) !== 0 ? { host: text, port: 53 } : hostPort(text);
}

function frontend(f: RawFrontend, tls: FrontendConfig['tls']): FrontendConfig {
  const t = f.http.timeouts;
  return {
    name: f.name,
    listenText: f.listen,
    listen: hostPort(f.listen),
    protocol: f.protocol,
    backend: f.backend,
    algorithm: f.algorithm as Algorithm,
    maxConnections: f.max_connections ?? null,
    tcp: { connectTimeoutMs: ms(f.tcp.connect_timeout), idleTimeoutMs: ms(f.tcp.idle_timeout) },
    http: {
      requestHeaders: headerRules(f.http.request_headers),
      responseHeaders: headerRules(f.http.response_headers),
      removeRequestHeaders: f.http.remove_request_headers.map((h) => h.toLowerCase()),
      removeResponseHeaders: f.http.remove_response_headers.map((h) => h.toLowerCase()),
      via: f.http.via,
      xRealIp: f.http.x_real_ip,
      servedBy: f.http.served_by,
      trustedProxies: [...f.http.trusted_proxies],
      maxHeaderSize: parseSize(f.http.max_header_size) as number,
      timeouts: {
        clientHeaderMs: ms(t.client_header),
        clientIdleMs: ms(t.client_idle),
        clientStallMs: ms(t.client_stall),
        connectMs: ms(t.connect),
        responseMs: ms(t.response),
        tunnelIdleMs: ms(t.tunnel_idle),
        upstreamIdleMs: ms(t.upstream_idle),
      },
    },
    routes: f.routes.map((r) => ({
      host: r.host === undefined ? null : r.host.toLowerCase(),
      pathPrefix: r.path_prefix ?? null,
      methods: r.methods === undefined ? null : r.methods.map((m) => m.toUpperCase()),
      backend: r.backend,
      algorithm: (r.algorithm as Algorithm | undefined) ?? null,
    })),
    tls,
    proxyProtocol: f.proxy_protocol === 'accept',
  };
}

/**
 * Schema-valid, cross-checked raw data → the typed configuration every process uses.
 * `tls` holds the certificates, keys and CAs read and checked from the files it names.
 */
export function normalize(raw: RawConfig, configFile: string | null, tls: Pick<TlsCheck, 'frontends' | 'backends'>): ResolvedConfig {
  const d = raw.health_check_defaults;
  const defaults: HealthCheckSettings = {
    type: 'tcp',
    path: '/',
    expectedStatus: 200,
    intervalMs: ms(d.interval),
    timeoutMs: ms(d.timeout),
    unhealthyThreshold: d.unhealthy_threshold,
    healthyThreshold: d.healthy_threshold,
    cooldownMs: ms(d.cooldown),
  };
  const g = raw.global;
  const backends: BackendConfig[] = raw.backends.map((b, i) => {
    const hc = b.health_check;
    return {
      name: b.name,
      servers: mergeServers(b.servers).map((s) => {
        const hp = hostPort(s.address);
        return { address: s.address, host: hp.host, port: hp.port, weight: s.weight, dns: isIP(hp.host) === 0 };
      }),
      healthCheck:
        hc === undefined
          ? defaults
          : {
              type: hc.type,
              path: hc.path,
              expectedStatus: hc.expected_status,
              intervalMs: hc.interval === undefined ? defaults.intervalMs : ms(hc.interval),
              timeoutMs: hc.timeout === undefined ? defaults.timeoutMs : ms(hc.timeout),
              unhealthyThreshold: hc.unhealthy_threshold ?? defaults.unhealthyThreshold,
              healthyThreshold: hc.healthy_threshold ?? defaults.healthyThreshold,
              cooldownMs: hc.cooldown === undefined ? defaults.cooldownMs : ms(hc.cooldown),
            },
      resolveIntervalMs: ms(b.resolve_interval),
      tls: tls.backends.get(i) ?? null,
      sendProxy: b.send_proxy ?? null,
    };
  });
  return {
    global: {
      logLevel: g.log_level as LogLevel,
      logFormat: g.log_format as LogFormat,
      metrics: { enabled: g.metrics.enabled, probes: g.metrics.probes ?? g.metrics.enabled, address: hostPort(g.metrics.address), path: g.metrics.path },
      workers: g.workers,
      shutdownDelayMs: ms(g.shutdown_delay),
      shutdownTimeoutMs: ms(g.shutdown_timeout),
      adminSocket: g.admin.socket === undefined ? defaultAdminSocket(configFile) : socketPath(g.admin.socket, configFile),
      statusPage: { enabled: g.admin.status ?? null, actions: g.admin.status_actions, token: g.admin.token ?? null },
      accessLog: g.access_log,
      resolvers: g.resolvers.map(resolver),
    },
    healthCheckDefaults: defaults,
    frontends: raw.frontends.map((f, i) => frontend(f, tls.frontends.get(i) ?? null)),
    backends,
  };
}

/**
 * A server listed twice is one server with the weights added up (the original ran such a
 * file, giving it a turn per listing; cross-check warns).
 */
function mergeServers(servers: readonly { address: string; weight: number }[]): { address: string; weight: number }[] {
  const byAddress = new Map<string, { address: string; weight: number }>();
  for (const s of servers) {
    const prior = byAddress.get(s.address);
    if (prior === undefined) byAddress.set(s.address, { address: s.address, weight: s.weight });
    else prior.weight = Math.min(prior.weight + s.weight, 2 ** 32 - 1);
  }
  return [...byAddress.values()];
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
