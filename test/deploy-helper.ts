// Readers for the deployment files (Dockerfile, systemd unit, Kubernetes manifests),
// shared by test/deploy.test.ts and test/package.test.ts. Not a test file itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@rustlb/testkit';
import { parseAllDocuments } from 'yaml';

export interface Instruction {
  readonly keyword: string;
  /** The rest of the line, continuations joined. */
  readonly args: string;
}

/** One stage of a Dockerfile: its FROM and the instructions after it. */
export interface Stage {
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export function readDockerfile(file = join(ROOT, 'Dockerfile')): Stage[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const joined: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    joined.push(current + line);
    current = '';
  }
  const stages: { from: string; instructions: Instruction[] }[] = [];
  for (const line of joined) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const keyword = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (keyword === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ keyword, args });
  }
  return stages;
}

export function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The JSON (exec) form of ENTRYPOINT, CMD or HEALTHCHECK ... CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const value = JSON.parse(json) as unknown;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`not an exec form: ${args}`);
  return value as string[];
}

/** `ENV A=1 B=2` instructions of a stage, as a map. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of instructions(stage, 'ENV')) {
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
      const value = m[2] as string;
      env[m[1] as string] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    }
  }
  return env;
}

/** A systemd unit: section → key → values (a key may repeat). */
export type Unit = Record<string, Record<string, string[]>>;

export function readUnit(file: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s !== null) {
      section = s[1] as string;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${file}: not a key=value line: ${line}`);
    const key = line.slice(0, eq).trim();
    const entries = unit[section] ?? {};
    unit[section] = entries;
    entries[key] = [...(entries[key] ?? []), line.slice(eq + 1).trim()];
  }
  return unit;
}

/** systemd time span in seconds: `45`, `45s`, `1min 30s`, `2m`. */
export function timeSpanSeconds(span: string): number {
  if (/^\d+$/.test(span)) return Number(span);
  let total = 0;
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  let consumed = '';
  for (const m of span.matchAll(re)) {
    const unit = units[m[2] as string];
    if (unit === undefined) throw new Error(`unknown time unit in ${span}`);
    total += Number(m[1]) * unit;
    consumed += m[0];
  }
  if (consumed.replace(/\s/g, '') !== span.replace(/\s/g, '')) throw new Error(`cannot read time span ${span}`);
  return total;
}

/** rustlb durations (`100ms`, `5s`, `1m30s`) in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  let rest = text;
  const re = /^(\d+)(ms|s|m|h)/;
  while (rest !== '') {
    const m = re.exec(rest);
    if (m === null) throw new Error(`cannot read duration ${text}`);
    total += Number(m[1]) * (units[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return total;
}

export type Manifest = Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string; labels?: Record<string, string> } };

/** Every document of a multi-document YAML file; a parse error throws. */
export function readManifests(file: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Manifest;
  });
}
