/** One thing wrong (or doubtful) in a configuration file, located by path and line. */
export interface ConfigProblem {
  /** `frontends[1].backend`; empty for the whole document. */
  readonly path: string;
  /** 1-based line in the file, when known. */
  readonly line: number | null;
  readonly message: string;
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** `frontends[1].backend (line 14): no backend named "api"` */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? '' : p.path;
  const line = p.line === null ? '' : `(line ${p.line})`;
  const head = [where, line].filter((s) => s !== '').join(' ');
  return head === '' ? p.message : `${head}: ${p.message}`;
}
