/**
 * Builders for the rustlb configs the end-to-end tests start with: plain YAML objects,
 * the same `Record<string, unknown>` RustlbProcess.start and writeConfig take. Each
 * builder fills in what nearly every test says (listen on 127.0.0.1, protocol http,
 * the health check on /health) and takes an `extra` object spread last, so a test can
 * add, override or break any key.
 */

/** Any further keys of a frontend, backend or config, spread over the defaults. */
export type Extra = Record<string, unknown>;

/**
 * A server: its address alone, or the server's YAML object (`{ address, weight }`). An
 * upstream object (an HttpUpstream, say) is refused by the type: pass its `.address`.
 */
export type ServerSpec = string | (Record<string, unknown> & { readonly address: string });

/** The top-level blocks of a config besides frontends and backends; keys left undefined are left out of the YAML. */
export interface ConfigBlocks {
  readonly global?: Extra;
  readonly health_check_defaults?: Extra;
  readonly [key: string]: unknown;
}

/** A whole config document, in blocks. */
export interface ConfigParts extends ConfigBlocks {
  readonly frontends: readonly Extra[];
  readonly backends: readonly Extra[];
}

/** A config document as lbConfig builds it: still plain data, typed enough for a test to read its blocks back. */
export interface LbConfig {
  global?: Extra;
  health_check_defaults?: Extra;
  frontends: Extra[];
  backends: Extra[];
  [key: string]: unknown;
}

/** A health check that never takes a server out during a test (one probe an hour, a thousand failures to go down). */
export const QUIET_CHECK: Readonly<Extra> = Object.freeze({ interval: '1h', unhealthy_threshold: 1000 });

/** Fast health settings (200 ms probes, down after 2 failures, up after 1, no cooldown): transitions within a second. */
export const FAST_CHECK: Readonly<Extra> = Object.freeze({ interval: '200ms', timeout: '200ms', unhealthy_threshold: 2, healthy_threshold: 1, cooldown: '0s' });

/** A config document from its blocks, in the order global, health_check_defaults, frontends, backends, then any other key. */
export function lbConfig(parts: ConfigParts): LbConfig {
  const { global, health_check_defaults, frontends, backends, ...rest } = parts;
  return {
    ...(global === undefined ? {} : { global }),
    ...(health_check_defaults === undefined ? {} : { health_check_defaults }),
    frontends: [...frontends],
    backends: [...backends],
    ...rest,
  };
}

/** An HTTP frontend listening on 127.0.0.1:`port` (`extra` may change the protocol, the listen address or anything else). */
export function frontend(name: string, port: number, backend: string, extra: Extra = {}): Record<string, unknown> {
  return { name, listen: `127.0.0.1:${port}`, protocol: 'http', backend, ...extra };
}

/** A TCP frontend listening on 127.0.0.1:`port`. */
export function tcpFrontend(name: string, port: number, backend: string, extra: Extra = {}): Record<string, unknown> {
  return frontend(name, port, backend, { protocol: 'tcp', ...extra });
}

/** A backend over `servers` (addresses or server objects); its health check, TLS and the rest go in `extra`. */
export function backend(name: string, servers: readonly ServerSpec[], extra: Extra = {}): Record<string, unknown> {
  return { name, servers: servers.map((s) => (typeof s === 'string' ? { address: s } : s)), ...extra };
}

/** An HTTP health check on GET /health (what the test upstreams answer); timings and thresholds in `extra`. */
export function httpCheck(extra: Extra = {}): Record<string, unknown> {
  return { type: 'http', path: '/health', ...extra };
}

/** Options of webPool: extra keys for its frontend and backend, and the other blocks of the config. */
export interface WebPoolOptions extends ConfigBlocks {
  readonly frontend?: Extra;
  readonly backend?: Extra;
}

/** The config most tests need: HTTP frontend `web` on 127.0.0.1:`port` to backend `pool` over `servers`. */
export function webPool(port: number, servers: readonly ServerSpec[], options: WebPoolOptions = {}): LbConfig {
  const { frontend: front, backend: pool, ...parts } = options;
  return lbConfig({ ...parts, frontends: [frontend('web', port, 'pool', front)], backends: [backend('pool', servers, pool)] });
}
