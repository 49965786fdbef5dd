import type { StatusResult } from '@rustlb/core';
import { bytes, duration, EXIT, json, type Outcome, table } from '../output.js';

/** A count, or `-` when an older primary did not send it (or it does not apply). */
function count(n: number | null | undefined): string {
  return typeof n === 'number' ? String(n) : '-';
}

export function statusOutcome(s: StatusResult, asJson: boolean): Outcome {
  if (asJson) return { exitCode: EXIT.ok, stdout: json(s) };
  const out: string[] = [];
  out.push(`rustlb ${s.version}, pid ${s.pid}, up ${duration(s.uptimeSeconds)}${s.draining ? ', SHUTTING DOWN' : ''}${s.ready ? ', ready' : ', NOT ready'}`);
  out.push(`config ${s.configFile}, generation ${s.generation}`);
  out.push('');
  out.push('workers:');
  out.push(
    table([
      ['  slot', 'pid', 'state', 'uptime', 'gen', 'cpu%', 'rss', 'conns', 'requests', 'restarts', 'last crash'],
      ...s.workers.map((w) => [
        `  ${w.slot}`,
        w.state === 'respawning' ? `(${w.pid})` : String(w.pid),
        (w.state === 'respawning' && typeof w.respawnInMs === 'number' ? `respawning in ${(w.respawnInMs / 1000).toFixed(1)}s` : w.state) +
          (w.crashLoop ? ' (crash loop)' : ''),
        duration(w.uptimeSeconds),
        String(w.generation),
        w.cpuPercent === null ? '-' : String(w.cpuPercent),
        bytes(w.rssBytes),
        w.activeConnections === null ? '-' : String(w.activeConnections),
        w.requests === null ? '-' : String(w.requests),
        String(w.restarts),
        w.lastExit ?? '-',
      ]),
    ]),
  );
  out.push('');
  out.push('frontends:');
  out.push(
    table([
      ['  frontend', 'protocol', 'listen', 'backend', 'algorithm', 'conns', 'accepted', 'requests'],
      ...s.frontends.map((f) => [
        `  ${f.name}`,
        f.protocol,
        f.listen,
        `-> ${f.backend}`,
        f.algorithm,
        count(f.activeConnections),
        count(f.connections),
        count(f.requests),
      ]),
    ]),
  );
  out.push('');
  out.push('backends:');
  for (const b of s.backends) {
    out.push(`  ${b.name}${b.servers.length === 0 ? ' (no servers)' : ''}`);
    if (b.servers.length > 0) {
      out.push(
        table([
          ['    server', 'health', 'state', 'weight', 'in-flight', 'last check', 'requests', 'failures passive/active', 'last change'],
          ...b.servers.map((v) => [
            `    ${v.server}`,
            v.healthy ? 'UP' : 'DOWN',
            v.state,
            String(v.weight),
            String(v.activeRequests),
            v.lastCheck ?? '-',
            count(v.requests),
            `${count(v.passiveFailures)}/${count(v.activeFailures)}`,
            v.lastChange === undefined ? '-' : `${v.lastChange}${v.lastChangeReason == null ? ' (first seen)' : ` (${v.lastChangeReason})`}`,
          ]),
        ]),
      );
    }
  }
  // Older primaries answer without the field.
  const certificates = s.certificates ?? [];
  if (certificates.length > 0) {
    out.push('');
    out.push('certificates:');
    out.push(
      table([
        ['  frontend', 'names', 'not after', 'fingerprint (SHA-256)', 'file'],
        ...certificates.map((c) => [`  ${c.frontend}`, c.names.length === 0 ? '-' : c.names.join(','), c.notAfter, c.fingerprint, c.file]),
      ]),
    );
  }
  return { exitCode: EXIT.ok, stdout: `${out.join('\n')}\n` };
}
