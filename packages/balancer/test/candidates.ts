import type { Balancer, Candidate } from '../src/index.js';

/** A plain server as a worker would hold it: all fields settable by the test. */
export interface TestServer extends Candidate {
  weight: number;
}

export function server(key: string, weight = 1, available = true): TestServer {
  return { key, weight, available, localActive: 0, remoteActive: 0 };
}

/** `n` servers named `pool/10.0.0.I:80`, weights from `weights` (1 when missing). */
export function pool(n: number, weights: readonly number[] = []): TestServer[] {
  return Array.from({ length: n }, (_, i) => server(`pool/10.0.0.${i}:80`, weights[i] ?? 1));
}

/** Copies with the same keys and state: what a second worker builds from the same push. */
export function copy(servers: readonly TestServer[]): TestServer[] {
  return servers.map((s) => ({ ...s }));
}

/** `count` picks for `clientIp`, as keys (null when nothing was picked). */
export function picks(b: Balancer, count: number, clientIp = '192.0.2.1'): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < count; i++) out.push(b.pick(clientIp, null)?.key ?? null);
  return out;
}

/** How often each key occurs. */
export function tally(keys: readonly (string | null)[]): Map<string | null, number> {
  const out = new Map<string | null, number>();
  for (const k of keys) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

/**
 * A small deterministic PRNG (mulberry32), so "10,000 random IPs" are the same IPs on
 * every run and a failure can be reproduced.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomIpv4(next: () => number): string {
  const n = Math.floor(next() * 2 ** 32);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function randomIpv6(next: () => number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(Math.floor(next() * 65536).toString(16));
  return groups.join(':');
}

/** `list[i]`, which must exist (tests index fixtures they built). */
export function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`no element ${i} in a list of ${list.length}`);
  return v;
}
