/**
 * "What validates can be applied" (issue 19): a validated configuration given to the
 * worker's own constructors, the way a worker applies a generation: proxy tables built
 * from it and a topology the primary would send, one HTTP or TCP state per frontend, and
 * every configured header rendered with every value its variables can take, each checked
 * by the byte rules the data plane sends by. The proxy package is passed in (this package
 * may not import it): test/config-apply.test.ts and scripts/fuzz-config.mjs do.
 */
import assert from 'node:assert/strict';
import { type FrontendConfig, isFieldName, isFieldValue, type ResolvedConfig, type ServerEntry, serverKey, type Topology } from '@rustlb/core';

interface Rendered {
  readonly name: string;
  render(vars: { clientIp: string; clientPort: string; backendName: string; backendAddr: string }): string;
}

interface HttpStateLike {
  readonly requestHeaders: readonly Rendered[];
  readonly responseHeaders: readonly Rendered[];
  readonly requestIdRule: Rendered | null;
}

interface TablesLike {
  close(): void;
}

/** The parts of @rustlb/proxy a worker applies a generation with. */
export interface ProxyModule {
  readonly ProxyTables: { build(generation: number, config: ResolvedConfig, topology: Topology, previous: null, offset: number): TablesLike };
  readonly HttpState: new (frontend: FrontendConfig, tables: never, metrics: never) => HttpStateLike;
  readonly TcpState: new (frontend: FrontendConfig, tables: never, metrics: never) => unknown;
}

/** The server table the primary sends for `config`: every server healthy and enabled. */
export function topologyOf(config: ResolvedConfig): Topology {
  const backends: Record<string, ServerEntry[]> = {};
  for (const b of config.backends) {
    backends[b.name] = b.servers.map((s) => ({
      key: serverKey(b.name, s.address),
      address: s.address,
      host: s.host,
      port: s.port,
      weight: s.weight,
      healthy: true,
      admin: 'enabled',
    }));
  }
  return { version: 1, backends };
}

/** Client addresses at their longest and oddest, as the data plane sees them. */
const CLIENTS = [
  { clientIp: '255.255.255.255', clientPort: '65535' },
  { clientIp: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', clientPort: '1' },
  { clientIp: 'fe80::1%eth0', clientPort: '' },
] as const;

/** Applies `config` as a worker would; throws (an assertion) on whatever a worker could not do. */
export function applyConfig(proxy: ProxyModule, metrics: unknown): (config: ResolvedConfig) => void {
  return (config) => {
    const tables = proxy.ProxyTables.build(1, config, topologyOf(config), null, 0);
    try {
      for (const f of config.frontends) {
        if (f.protocol === 'tcp') {
          new proxy.TcpState(f, tables as never, metrics as never);
          continue;
        }
        const state = new proxy.HttpState(f, tables as never, metrics as never);
        const rules = [...state.requestHeaders, ...state.responseHeaders, ...(state.requestIdRule === null ? [] : [state.requestIdRule])];
        const targets = new Set([f.backend, ...f.routes.map((r) => r.backend)]);
        const servers = config.backends
          .filter((b) => targets.has(b.name))
          .flatMap((b) => b.servers.map((s) => ({ backendName: b.name, backendAddr: s.address })));
        for (const rule of rules) {
          assert.ok(isFieldName(rule.name), `header name ${JSON.stringify(rule.name)} of frontend ${f.name}`);
          for (const client of CLIENTS) {
            for (const server of [{ backendName: f.backend, backendAddr: '' }, ...servers]) {
              const value = rule.render({ ...client, ...server });
              assert.ok(isFieldValue(value), `${rule.name}: ${JSON.stringify(value)} is not a header value (frontend ${f.name})`);
              // One byte per character: what the codec writes is what was configured.
              assert.equal(Buffer.from(value, 'latin1').toString('latin1'), value);
            }
          }
        }
      }
    } finally {
      tables.close();
    }
  };
}
