import { parseHostPort } from '@rustlb/core';
import { didYouMean } from './did-you-mean.js';
import { type ConfigProblem, formatPath, type PathSegment } from './problems.js';
import type { RawConfig } from './raw.js';
import { parseDuration } from './units.js';

type LineOf = (p: readonly PathSegment[], key?: boolean) => number | null;

export interface CrossCheckResult {
  readonly errors: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const VARIABLE = /\$([a-z_]+)/g;
const KNOWN_VARIABLES = new Set(['client_ip', 'client_port', 'backend_name', 'backend_addr']);

/**
 * Checks that need the whole document: names resolve, nothing is declared twice, no two
 * listeners collide. `broken` holds the paths the schema already rejected: a part that
 * is not well-formed is not cross-checked (its schema errors say enough).
 */
export function crossCheck(raw: RawConfig, given: unknown, lineOf: LineOf, broken: readonly string[]): CrossCheckResult {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const isBroken = (segs: readonly PathSegment[]): boolean => {
    const p = formatPath(segs);
    return broken.some((b) => b === p || b.startsWith(`${p}.`) || b.startsWith(`${p}[`));
  };
  const error = (segs: readonly PathSegment[], message: string) => errors.push({ path: formatPath(segs), line: lineOf(segs), message });
  const at = (segs: readonly PathSegment[]): string => {
    const line = lineOf(segs);
    return line === null ? '' : `, line ${line}`;
  };
  const warn = (segs: readonly PathSegment[], message: string) => warnings.push({ path: formatPath(segs), line: lineOf(segs), message });

  const frontends = Array.isArray(raw.frontends) ? raw.frontends : [];
  const backends = Array.isArray(raw.backends) ? raw.backends : [];

  // Backends: unique names, unique server addresses.
  const backendIndex = new Map<string, number>();
  backends.forEach((b, i) => {
    if (isBroken(['backends', i, 'name']) || typeof b?.name !== 'string') return;
    const first = backendIndex.get(b.name);
    if (first !== undefined) error(['backends', i, 'name'], `duplicate backend name "${b.name}" (first at backends[${first}]${at(['backends', first])})`);
    else backendIndex.set(b.name, i);
    if (!isBroken(['backends', i, 'servers'])) {
      const seen = new Map<string, number>();
      b.servers.forEach((s, j) => {
        const prior = seen.get(s.address);
        if (prior !== undefined)
          error(['backends', i, 'servers', j, 'address'], `duplicate server "${s.address}" (also servers[${prior}]${at(['backends', i, 'servers', prior])})`);
        else seen.set(s.address, j);
      });
    }
    const hc = b.health_check;
    if (hc !== undefined && !isBroken(['backends', i, 'health_check'])) {
      const interval = parseDuration(hc.interval ?? raw.health_check_defaults?.interval ?? '10s');
      const timeout = parseDuration(hc.timeout ?? raw.health_check_defaults?.timeout ?? '5s');
      if (interval !== null && timeout !== null && timeout > interval) {
        warn(
          ['backends', i, 'health_check', 'timeout'],
          'is longer than the interval: a slow probe delays the next one (probes never overlap), so the effective interval grows',
        );
      }
      if (hc.type === 'tcp' && (hc.path !== '/' || hc.expected_status !== 200)) {
        warn(['backends', i, 'health_check'], 'path and expected_status only apply to type: http');
      }
    }
  });

  const backendNames = [...backendIndex.keys()];
  // A backend the schema rejected still declares its name when it has one: a reference to
  // it is not wrong. One without a readable name may be the one meant: accuse nobody then.
  const unreadableBackend = broken.some((b) => b === 'backends') || backends.some((b) => typeof (b as { name?: unknown } | null)?.name !== 'string');
  const declared = new Set(backends.map((b) => (b as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string'));
  const checkBackendRef = (segs: PathSegment[], name: unknown) => {
    if (isBroken(segs) || typeof name !== 'string' || declared.has(name) || unreadableBackend) return;
    const guess = didYouMean(name, backendNames);
    error(segs, `no backend named "${name}"${guess === null ? '' : ` (did you mean "${guess}"?)`}`);
  };

  // Frontends: unique names, resolvable backends, no two on one address.
  const frontendIndex = new Map<string, number>();
  const listens: { i: number; host: string; port: number; text: string }[] = [];
  frontends.forEach((f, i) => {
    if (f === null || typeof f !== 'object') return;
    if (!isBroken(['frontends', i, 'name']) && typeof f.name === 'string') {
      const first = frontendIndex.get(f.name);
      if (first !== undefined) error(['frontends', i, 'name'], `duplicate frontend name "${f.name}" (first at frontends[${first}]${at(['frontends', first])})`);
      else frontendIndex.set(f.name, i);
    }
    checkBackendRef(['frontends', i, 'backend'], f.backend);
    if (!isBroken(['frontends', i, 'listen']) && typeof f.listen === 'string') {
      const hp = parseHostPort(f.listen);
      if (hp !== null) {
        const clash = listens.find((l) => l.port === hp.port && (l.host === hp.host || WILDCARDS.has(l.host) || WILDCARDS.has(hp.host)));
        if (clash !== undefined) {
          error(
            ['frontends', i, 'listen'],
            `${f.listen} overlaps frontends[${clash.i}] (listen ${clash.text}${at(['frontends', clash.i, 'listen'])}): two frontends cannot listen on one address`,
          );
        }
        listens.push({ i, host: hp.host, port: hp.port, text: f.listen });
      }
    }
    if (!isBroken(['frontends', i, 'routes']) && Array.isArray(f.routes)) {
      if (f.protocol === 'tcp' && f.routes.length > 0) error(['frontends', i, 'routes'], 'routes need protocol: http (this frontend is tcp)');
      f.routes.forEach((r, j) => {
        checkBackendRef(['frontends', i, 'routes', j, 'backend'], r.backend);
        if (r.host === undefined && r.path_prefix === undefined && r.methods === undefined) {
          error(['frontends', i, 'routes', j], 'a route needs at least one of host, path_prefix, methods');
        }
      });
    }
    if (f.protocol === 'http' && !isBroken(['frontends', i, 'http'])) {
      for (const which of ['request_headers', 'response_headers'] as const) {
        const names = new Map<string, string>();
        for (const [name, value] of Object.entries(f.http[which] ?? {})) {
          const lower = name.toLowerCase();
          const prior = names.get(lower);
          if (prior !== undefined) error(['frontends', i, 'http', which, name], `header "${name}" is also set as "${prior}"`);
          names.set(lower, name);
          for (const m of String(value).matchAll(VARIABLE)) {
            if (!KNOWN_VARIABLES.has(m[1] as string)) {
              warn(
                ['frontends', i, 'http', which, name],
                `"$${m[1]}" is not a variable (known: $client_ip, $client_port, $backend_name, $backend_addr); it is sent as written`,
              );
            }
          }
        }
      }
    }
  });

  // The metrics server must not take a frontend's address.
  const m = raw.global?.metrics;
  if (m !== undefined && !isBroken(['global', 'metrics', 'address'])) {
    const hp = parseHostPort(m.address);
    const clash = hp === null ? undefined : listens.find((l) => l.port === hp.port && (l.host === hp.host || WILDCARDS.has(l.host) || WILDCARDS.has(hp.host)));
    if (clash !== undefined)
      error(['global', 'metrics', 'address'], `${m.address} overlaps frontends[${clash.i}] (listen ${clash.text}${at(['frontends', clash.i, 'listen'])})`);
  }

  // Settings for the other protocol are accepted (the original did) but do nothing.
  const givenFrontends = (given as { frontends?: unknown[] } | null)?.frontends;
  frontends.forEach((f, i) => {
    const g = Array.isArray(givenFrontends) ? (givenFrontends[i] as Record<string, unknown> | undefined) : undefined;
    if (f === null || typeof f !== 'object' || g === undefined) return;
    if (f.protocol === 'tcp' && g.http !== undefined) warn(['frontends', i, 'http'], 'http settings are ignored on a tcp frontend');
    if (f.protocol === 'http' && g.tcp !== undefined) warn(['frontends', i, 'tcp'], 'tcp settings are ignored on an http frontend (use http.timeouts)');
  });

  return { errors, warnings };
}
