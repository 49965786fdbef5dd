import { FRAMING_FIELDS, fieldValueProblem, HEADER_VARIABLES, headerTemplateVariables, parseHostPort } from '@rustlb/core';
import { didYouMean } from './did-you-mean.js';
import { type ConfigProblem, formatPath, type PathSegment, quote } from './problems.js';
import type { RawConfig } from './raw.js';
import { schema } from './schema.js';
import { MAX_TIMER_MS, parseDuration } from './units.js';

type LineOf = (p: readonly PathSegment[], key?: boolean) => number | null;

export interface CrossCheckResult {
  readonly errors: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
/** Above this, a name draws a warning. */
const MAX_NAME = 128;
const VARIABLE = /\$([a-z_]+)/g;
const KNOWN_VARIABLES: ReadonlySet<string> = new Set(HEADER_VARIABLES);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Checks that need the whole document: names resolve, nothing is declared twice, no two
 * listeners collide, header values stay header values once variables are substituted.
 * `broken` holds the paths the schema already rejected: a part that is not well-formed
 * is not cross-checked (its schema errors say enough), nor is anything inside it or
 * around it. Nothing here trusts a type the schema may have refused: every value read is
 * checked for its type first (the property tests feed it arbitrary documents).
 */
export function crossCheck(raw: RawConfig, given: unknown, lineOf: LineOf, broken: readonly (readonly PathSegment[])[]): CrossCheckResult {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  // A path is broken when it, an ancestor or a descendant was refused by the schema.
  const brokenAt = new Set(broken.map(formatPath));
  const brokenBelow = new Set<string>();
  for (const b of broken) for (let n = 0; n < b.length; n++) brokenBelow.add(formatPath(b.slice(0, n)));
  const isBroken = (segs: readonly PathSegment[]): boolean => {
    if (broken.length === 0) return false;
    if (brokenBelow.has(formatPath(segs))) return true;
    for (let n = 0; n <= segs.length; n++) if (brokenAt.has(formatPath(segs.slice(0, n)))) return true;
    return false;
  };
  const error = (segs: readonly PathSegment[], message: string) => errors.push({ path: formatPath(segs), line: lineOf(segs), message });
  const at = (segs: readonly PathSegment[]): string => {
    const line = lineOf(segs);
    return line === null ? '' : `, line ${line}`;
  };
  const warn = (segs: readonly PathSegment[], message: string) => warnings.push({ path: formatPath(segs), line: lineOf(segs), message });

  const frontends = (Array.isArray(raw.frontends) ? raw.frontends : []) as unknown[] as (RawConfig['frontends'][number] | null)[];
  const backends = (Array.isArray(raw.backends) ? raw.backends : []) as unknown[] as (RawConfig['backends'][number] | null)[];
  const hcDefaults = !isBroken(['health_check_defaults']) && isObject(raw.health_check_defaults) ? raw.health_check_defaults : null;

  // Backends: unique names, unique server addresses.
  const backendIndex = new Map<string, number>();
  backends.forEach((b, i) => {
    if (!isObject(b) || isBroken(['backends', i, 'name']) || typeof b.name !== 'string') return;
    const first = backendIndex.get(b.name);
    if (first !== undefined) error(['backends', i, 'name'], `duplicate backend name ${quote(b.name)} (first at backends[${first}]${at(['backends', first])})`);
    else backendIndex.set(b.name, i);
    if (!isBroken(['backends', i, 'servers'])) {
      const seen = new Map<string, number>();
      listOf(b.servers).forEach((s, j) => {
        if (!isObject(s) || typeof s.address !== 'string') return;
        const prior = seen.get(s.address);
        // The original ran such a file: it is one server, its weights added up (normalize).
        if (prior !== undefined)
          warn(
            ['backends', i, 'servers', j, 'address'],
            `${quote(s.address)} is also servers[${prior}]${at(['backends', i, 'servers', prior])}: it is one server, with the two weights added up`,
          );
        else seen.set(s.address, j);
      });
    }
    const hc = b.health_check;
    if (isObject(hc) && !isBroken(['backends', i, 'health_check'])) {
      // The defaults count only when the schema accepted them (it said what is wrong with them).
      const fallback = (key: 'interval' | 'timeout', builtIn: string): string => {
        const d = hcDefaults?.[key];
        return typeof d === 'string' ? d : builtIn;
      };
      const interval = parseDuration(typeof hc.interval === 'string' ? hc.interval : fallback('interval', '10s'));
      const timeout = parseDuration(typeof hc.timeout === 'string' ? hc.timeout : fallback('timeout', '5s'));
      if (interval !== null && timeout !== null && timeout > interval) {
        warn(
          ['backends', i, 'health_check', 'timeout'],
          'is longer than the interval: a slow probe delays the next one (probes never overlap), so the effective interval grows',
        );
      }
      if (hc.type === 'http' && typeof hc.expected_status === 'number' && hc.expected_status > 599) {
        warn(
          ['backends', i, 'health_check', 'expected_status'],
          `${hc.expected_status} is not a status HTTP defines (100-599): only a server that sends it is healthy`,
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
  const unreadableBackend =
    brokenAt.has('backends') || !Array.isArray(raw.backends) || backends.some((b) => typeof (b as { name?: unknown } | null)?.name !== 'string');
  const declared = new Set(backends.map((b) => (b as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string'));
  const checkBackendRef = (segs: PathSegment[], name: unknown) => {
    if (isBroken(segs) || typeof name !== 'string' || declared.has(name) || unreadableBackend) return;
    const guess = didYouMean(name, backendNames);
    error(segs, `no backend named ${quote(name)}${guess === null ? '' : ` (did you mean ${quote(guess)}?)`}`);
  };

  // Frontends: unique names, resolvable backends, no two on one address.
  const frontendIndex = new Map<string, number>();
  const listens = new Map<number, { i: number; host: string; text: string }[]>();
  const overlap = (host: string, port: number) => (listens.get(port) ?? []).find((l) => l.host === host || WILDCARDS.has(l.host) || WILDCARDS.has(host));
  frontends.forEach((f, i) => {
    if (!isObject(f)) return;
    if (!isBroken(['frontends', i, 'name']) && typeof f.name === 'string') {
      const first = frontendIndex.get(f.name);
      if (first !== undefined)
        error(['frontends', i, 'name'], `duplicate frontend name ${quote(f.name)} (first at frontends[${first}]${at(['frontends', first])})`);
      else frontendIndex.set(f.name, i);
    }
    checkBackendRef(['frontends', i, 'backend'], f.backend);
    if (!isBroken(['frontends', i, 'listen']) && typeof f.listen === 'string') {
      const hp = parseHostPort(f.listen);
      if (hp !== null) {
        const clash = overlap(hp.host, hp.port);
        if (clash !== undefined) {
          error(
            ['frontends', i, 'listen'],
            `${f.listen} overlaps frontends[${clash.i}] (listen ${clash.text}${at(['frontends', clash.i, 'listen'])}): two frontends cannot listen on one address`,
          );
        }
        listens.set(hp.port, [...(listens.get(hp.port) ?? []), { i, host: hp.host, text: f.listen }]);
      }
    }
    if (!isBroken(['frontends', i, 'routes']) && Array.isArray(f.routes)) {
      if (f.protocol === 'tcp' && f.routes.length > 0) error(['frontends', i, 'routes'], 'routes need protocol: http (this frontend is tcp)');
      f.routes.forEach((r, j) => {
        if (!isObject(r)) return;
        checkBackendRef(['frontends', i, 'routes', j, 'backend'], r.backend);
        if (r.host === undefined && r.path_prefix === undefined && r.methods === undefined) {
          error(['frontends', i, 'routes', j], 'a route needs at least one of host, path_prefix, methods');
        }
      });
    }
    if (f.protocol === 'http' && !isBroken(['frontends', i, 'http']) && isObject(f.http)) {
      // Removing these breaks every message: the body would be read as the next message,
      // or an HTTP/1.1 request would go upstream without the Host it must carry.
      for (const which of ['remove_request_headers', 'remove_response_headers'] as const) {
        listOf(f.http[which]).forEach((name, j) => {
          if (typeof name !== 'string') return;
          const lower = name.toLowerCase();
          if (lower === 'content-length')
            error(['frontends', i, 'http', which, j], `${name} cannot be removed: it frames the body, which would then be read as the next message`);
          if (lower === 'host' && which === 'remove_request_headers') {
            error(['frontends', i, 'http', which, j], `${name} cannot be removed: every HTTP/1.1 request must carry it (set it with request_headers instead)`);
          }
        });
      }
      for (const which of ['request_headers', 'response_headers'] as const) {
        const rules = f.http[which];
        if (!isObject(rules)) continue;
        const names = new Map<string, string>();
        for (const [name, value] of Object.entries(rules)) {
          const segs = ['frontends', i, 'http', which, name];
          const lower = name.toLowerCase();
          const prior = names.get(lower);
          if (prior !== undefined) error(segs, `header ${quote(name)} is also set as ${quote(prior)}`);
          names.set(lower, name);
          if (FRAMING_FIELDS.has(lower)) {
            error(
              segs,
              `${name} cannot be set: the proxy writes it from the message itself (framing and connection fields), and a fixed value would break every message`,
            );
          }
          const text = String(value);
          for (const m of text.matchAll(VARIABLE)) {
            if (!KNOWN_VARIABLES.has(m[1] as string)) {
              warn(segs, `"$${m[1]}" is not a variable (known: $client_ip, $client_port, $backend_name, $backend_addr); it is sent as written`);
            }
          }
          substitutionProblem(segs, f, text);
        }
      }
    }
  });

  /**
   * The template itself was checked by the schema; a variable must not bring in what the
   * template may not hold. $client_ip and $client_port are an address and a number;
   * $backend_name and $backend_addr are configuration values: each one the frontend can
   * pick (its backend and its routes' backends, and their servers) is checked as it
   * will be substituted. A host name is resolved into an IP address, which is safe too.
   */
  function substitutionProblem(segs: PathSegment[], f: Record<string, unknown>, template: string): void {
    const used = new Set(headerTemplateVariables(template));
    if (!used.has('backend_name') && !used.has('backend_addr')) return;
    const targets = new Set<string>();
    if (typeof f.backend === 'string') targets.add(f.backend);
    for (const r of listOf(f.routes)) if (isObject(r) && typeof r.backend === 'string') targets.add(r.backend);
    for (const name of targets) {
      const b = backendIndex.get(name);
      const backend = b === undefined ? undefined : backends[b];
      if (b === undefined || !isObject(backend)) continue;
      const candidates: [string, unknown, PathSegment[]][] = [];
      if (used.has('backend_name')) candidates.push(['backend_name', backend.name, ['backends', b, 'name']]);
      if (used.has('backend_addr') && !isBroken(['backends', b, 'servers'])) {
        listOf(backend.servers).forEach((s, j) => {
          if (isObject(s)) candidates.push(['backend_addr', s.address, ['backends', b, 'servers', j, 'address']]);
        });
      }
      for (const [variable, value, from] of candidates) {
        if (typeof value !== 'string') continue;
        const problem = fieldValueProblem(value);
        if (problem !== null) {
          error(segs, `$${variable} would put ${quote(value)} (${formatPath(from)}${at(from)}) into this header, which is not a header value: ${problem}`);
          return;
        }
      }
    }
  }

  // The metrics server must not take a frontend's address: only when it binds it (with
  // metrics and probes off nothing is bound there, as with the original).
  const g = raw.global as unknown;
  const m = isObject(g) ? g.metrics : undefined;
  const binds = isObject(m) && (typeof m.probes === 'boolean' ? m.probes || m.enabled !== false : m.enabled !== false);
  if (isObject(m) && binds && typeof m.address === 'string' && !isBroken(['global', 'metrics', 'address'])) {
    const hp = parseHostPort(m.address);
    const clash = hp === null ? undefined : overlap(hp.host, hp.port);
    if (clash !== undefined)
      error(['global', 'metrics', 'address'], `${m.address} overlaps frontends[${clash.i}] (listen ${clash.text}${at(['frontends', clash.i, 'listen'])})`);
  }

  // Spans the original took (`1year`) that no Node.js timer can wait: they wait ~24.8 days.
  for (const pattern of durationPaths()) {
    for (const [segs, value] of valuesAt(raw, pattern)) {
      const n = typeof value === 'string' && !isBroken(segs) ? parseDuration(value) : null;
      if (n !== null && n > MAX_TIMER_MS)
        warn(segs, `${quote(value as string)} is longer than 24.8 days, the longest a Node.js timer waits: rustlb waits 24.8 days`);
    }
  }

  // Long names run (the original took them) but every metric series and log line carries them.
  for (const [list, items] of [
    ['frontends', frontends],
    ['backends', backends],
  ] as const) {
    items.forEach((item, i) => {
      const name = isObject(item) ? item.name : undefined;
      if (typeof name === 'string' && name.length > MAX_NAME && !isBroken([list, i, 'name']))
        warn([list, i, 'name'], `is ${name.length} characters long: every metric series and log line carries it (keep names under ${MAX_NAME})`);
    });
  }

  // Settings for the other protocol are accepted (the original did) but do nothing.
  const givenFrontends = isObject(given) ? given.frontends : undefined;
  frontends.forEach((f, i) => {
    const gf = Array.isArray(givenFrontends) ? (givenFrontends[i] as unknown) : undefined;
    if (!isObject(f) || !isObject(gf)) return;
    if (f.protocol === 'tcp' && gf.http !== undefined) warn(['frontends', i, 'http'], 'http settings are ignored on a tcp frontend');
    if (f.protocol === 'http' && gf.tcp !== undefined) warn(['frontends', i, 'tcp'], 'tcp settings are ignored on an http frontend (use http.timeouts)');
  });

  return { errors, warnings };
}

const DURATION_REFS = new Set(['#/definitions/duration', '#/definitions/positiveDuration', '#/definitions/timeout']);
let durationPathsCache: (string | null)[][] | null = null;

/** Every path of the schema whose value is a duration; `null` stands for any list index. */
function durationPaths(): (string | null)[][] {
  if (durationPathsCache !== null) return durationPathsCache;
  const out: (string | null)[][] = [];
  const definitions = (schema.definitions ?? {}) as Record<string, Record<string, unknown>>;
  const walk = (node: Record<string, unknown>, path: (string | null)[], depth: number): void => {
    if (depth > 12) return;
    const ref = node.$ref;
    if (typeof ref === 'string') {
      if (DURATION_REFS.has(ref)) {
        out.push(path);
        return;
      }
      const target = definitions[ref.replace('#/definitions/', '')];
      if (target !== undefined) walk(target, path, depth + 1);
      return;
    }
    const props = node.properties;
    if (isObject(props)) for (const [k, v] of Object.entries(props)) if (isObject(v)) walk(v, [...path, k], depth + 1);
    if (isObject(node.items)) walk(node.items, [...path, null], depth + 1);
  };
  walk(schema, [], 0);
  durationPathsCache = out;
  return out;
}

/** The values found at a path pattern (`null`: every index of a list), with their paths. */
function valuesAt(root: unknown, pattern: readonly (string | null)[]): [PathSegment[], unknown][] {
  let found: [PathSegment[], unknown][] = [[[], root]];
  for (const key of pattern) {
    const next: [PathSegment[], unknown][] = [];
    for (const [segs, v] of found) {
      if (key === null) for (const [i, item] of listOf(v).entries()) next.push([[...segs, i], item]);
      else if (isObject(v) && key in v) next.push([[...segs, key], v[key]]);
    }
    found = next;
  }
  return found;
}
