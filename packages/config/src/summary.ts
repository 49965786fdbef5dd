import { formatHostPort, type ResolvedConfig } from '@rustlb/core';

/** The human summary `rustlb --validate` and `rustlb-ctl validate` print. */
export function summarize(config: ResolvedConfig): string {
  const lines: string[] = [];
  lines.push(`frontends (${config.frontends.length}):`);
  for (const f of config.frontends) {
    const routes = f.routes.length > 0 ? `, ${f.routes.length} route(s)` : '';
    lines.push(`  ${f.name}: ${f.protocol} on ${f.listenText} -> ${f.backend} (${f.algorithm}${routes})`);
    if (f.proxyProtocol) lines.push('    PROXY protocol header required (proxy_protocol: accept)');
    if (f.tls !== null) {
      const t = f.tls;
      const alpn = t.alpn.length === 0 ? 'no ALPN' : `ALPN ${t.alpn.join(', ')}`;
      lines.push(`    TLS from ${t.minVersion}, ${alpn}${t.ciphers === null ? '' : `, ciphers ${t.ciphers}`}; ${t.certificates.length} certificate(s):`);
      // Names, validity, fingerprint and files: never the key itself.
      for (const c of t.certificates) {
        const names = c.names.length === 0 ? '(no DNS name)' : c.names.join(', ');
        lines.push(`      ${names}: valid until ${new Date(c.notAfterMs).toISOString()}, SHA-256 ${c.fingerprint}, ${c.certFile}`);
      }
    }
  }
  lines.push(`backends (${config.backends.length}):`);
  for (const b of config.backends) {
    const hc = b.healthCheck;
    const check = hc.type === 'http' ? `http GET ${hc.path} expect ${hc.expectedStatus}` : 'tcp connect';
    lines.push(`  ${b.name}: ${b.servers.length} server(s), health check ${check} every ${hc.intervalMs}ms`);
    if (b.tls !== null) {
      const t = b.tls;
      const parts = [
        t.verify ? `verified against ${t.caFile ?? "Node's bundled CAs"}` : 'NOT verified',
        t.servername === null ? null : `servername ${t.servername}`,
        t.certFile === null ? null : `client certificate ${t.certFile}`,
      ].filter((p) => p !== null);
      lines.push(`    TLS to the servers, ${parts.join(', ')}`);
    }
    if (b.sendProxy !== null) lines.push(`    PROXY protocol ${b.sendProxy} header sent to the servers`);
    for (const s of b.servers) lines.push(`    ${s.address}${s.weight !== 1 ? ` weight ${s.weight}` : ''}${s.dns ? ' (resolved by DNS)' : ''}`);
  }
  const m = config.global.metrics;
  const probes = m.probes ? `health probes on ${formatHostPort(m.address)}` : m.enabled ? 'no health probes' : 'nothing bound there';
  lines.push(`metrics: ${m.enabled ? `http://${formatHostPort(m.address)}${m.path}` : 'off'} (${probes})`);
  lines.push(`workers: ${config.global.workers}`);
  return lines.join('\n');
}
