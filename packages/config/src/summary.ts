import { formatHostPort, type ResolvedConfig } from '@rustlb/core';

/** The human summary `rustlb --validate` and `rustlb-ctl validate` print. */
export function summarize(config: ResolvedConfig): string {
  const lines: string[] = [];
  lines.push(`frontends (${config.frontends.length}):`);
  for (const f of config.frontends) {
    const routes = f.routes.length > 0 ? `, ${f.routes.length} route(s)` : '';
    lines.push(`  ${f.name}: ${f.protocol} on ${f.listenText} -> ${f.backend} (${f.algorithm}${routes})`);
  }
  lines.push(`backends (${config.backends.length}):`);
  for (const b of config.backends) {
    const hc = b.healthCheck;
    const check = hc.type === 'http' ? `http GET ${hc.path} expect ${hc.expectedStatus}` : 'tcp connect';
    lines.push(`  ${b.name}: ${b.servers.length} server(s), health check ${check} every ${hc.intervalMs}ms`);
    for (const s of b.servers) lines.push(`    ${s.address}${s.weight !== 1 ? ` weight ${s.weight}` : ''}${s.dns ? ' (resolved by DNS)' : ''}`);
  }
  const m = config.global.metrics;
  lines.push(`metrics: ${m.enabled ? `http://${formatHostPort(m.address)}${m.path}` : 'off'} (health probes on ${formatHostPort(m.address)})`);
  lines.push(`workers: ${config.global.workers}`);
  return lines.join('\n');
}
