/** One thing wrong (or doubtful) in a configuration file, located by path and line. */
export interface ConfigProblem {
  /** `frontends[1].backend`; empty for the whole document. */
  readonly path: string;
  /** 1-based line in the file, when known. */
  readonly line: number | null;
  readonly message: string;
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * `text` for a one-line message: control characters and anything outside printable
 * ASCII escaped (a file can hold terminal escapes), cut to about `max` characters.
 * `quotes` also escapes `"` and `\` (for text shown between double quotes).
 */
export function printable(text: string, max: number, quotes = false): string {
  let out = '';
  const cut = text.length > max;
  const end = cut ? max - 3 : text.length;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (quotes && (c === 0x22 || c === 0x5c)) out += `\\${text[i]}`;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += text[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return cut ? `${out}...` : out;
}

/** `text` in double quotes, escaped and cut (about `max` characters in all) for a one-line message. */
export function quote(text: string, max = 60): string {
  return text.length > max - 2 ? `"${printable(text.slice(0, max - 4), max - 4, true)}..."` : `"${printable(text, max, true)}"`;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${quote(s)}]`;
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
