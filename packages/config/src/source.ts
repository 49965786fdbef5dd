import {
  Composer,
  type CST,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  Parser,
  visit,
  type YAMLError,
  YAMLParseError,
} from 'yaml';
import { type ConfigProblem, formatPath, type PathSegment, printable } from './problems.js';

/**
 * Larger files are refused unread: validation must answer within a second whatever the
 * file holds, and YAML parsing alone costs about a microsecond a byte. 256 KiB holds
 * thousands of frontends; a configuration is a few KiB.
 */
export const MAX_FILE_BYTES = 256 << 10;
/** Flow collections ([ ] { }) nested deeper than this are refused (the parser recurses). */
export const MAX_FLOW_DEPTH = 64;
/** Block content starting beyond this column is refused (each block level indents it further). */
export const MAX_BLOCK_COLUMN = 128;
/** The yaml library's guard against alias bombs (alias expansions weighed by their size). */
export const MAX_ALIAS_COUNT = 1000;

/** A parsed YAML document that can tell the line of any path in it. */
export interface YamlSource {
  readonly data: unknown;
  /** YAML syntax errors (duplicate keys included); when any, `data` is not usable. */
  readonly errors: readonly ConfigProblem[];
  /** Line of the node at `path` (or of its key when `key`), else of its nearest ancestor. */
  lineOf(path: readonly PathSegment[], key?: boolean): number | null;
}

type Doc = Document.Parsed;

/** Path segments of the map key that starts at `offset` (where the parser reports a duplicate). */
function keyPathAt(doc: Doc, offset: number): { path: PathSegment[]; key: string } | null {
  let found: { path: PathSegment[]; key: string } | null = null;
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return undefined;
      const segs: PathSegment[] = [];
      const chain = [...ancestors, pair];
      for (let i = 0; i < chain.length; i++) {
        const node = chain[i];
        const next = chain[i + 1];
        if (isSeq(node) && next !== undefined) segs.push(node.items.indexOf(next as never));
        else if (node !== null && typeof node === 'object' && 'key' in node && isScalar(node.key)) segs.push(String(node.key.value));
      }
      found = { path: segs, key: String(pair.key.value) };
      return visit.BREAK;
    },
  });
  return found;
}

/** Where an unclosed quoted string starts: the parser only reports where the file ends. */
function openQuoteAt(doc: Doc, offset: number): number | null {
  let start: number | null = null;
  visit(doc, {
    Scalar(_, node) {
      const r = node.range;
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && r !== undefined && r !== null && r[0] < offset && offset <= r[2]) {
        start = r[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return start;
}

function syntaxProblem(doc: Doc, lineCounter: LineCounter, e: YAMLError): ConfigProblem {
  const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
  const text = printable((e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:$/, ''), 160);
  if (e.code === 'DUPLICATE_KEY') {
    const at = keyPathAt(doc, e.pos[0]);
    if (at !== null) return { path: formatPath(at.path), line, message: `duplicate key "${at.key}" (a key may appear once in a mapping)` };
  }
  if (e.code === 'MISSING_CHAR' && /closing .quote/.test(text)) {
    const start = openQuoteAt(doc, e.pos[0]);
    if (start !== null) return { path: '', line: lineCounter.linePos(start).line, message: 'YAML syntax error: this quoted string is never closed' };
  }
  if (e.code === 'MULTIPLE_DOCS') return { path: '', line, message: 'YAML syntax error: the file must hold one YAML document, not several separated by ---' };
  return { path: '', line, message: `YAML syntax error: ${text}` };
}

/** 1-based line of `offset` in `text`. */
function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * The limits checked before the document is built, so a crafted file gets one clear
 * error instead of a stack overflow or minutes of parsing: size, block indentation,
 * flow nesting. Cheap: a scan of line starts, and the lexer only when the file holds
 * more opening brackets than the depth limit.
 */
function limitProblem(text: string): ConfigProblem | null {
  if (text.length > MAX_FILE_BYTES || Buffer.byteLength(text) > MAX_FILE_BYTES) {
    return {
      path: '',
      line: lineAtOffset(text, MAX_FILE_BYTES),
      message: 'the file is larger than the limit of 256 KiB; a configuration is a few KiB',
    };
  }
  // Block nesting: every level starts its content further right ("- - - x" too).
  let line = 1;
  for (let at = 0; at < text.length; line++) {
    let i = at;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      // space, tab, '-', '?', ':'
      if (c === 0x20 || c === 0x09 || c === 0x2d || c === 0x3f || c === 0x3a) i++;
      else break;
    }
    if (i - at > MAX_BLOCK_COLUMN) {
      return { path: '', line, message: `YAML nested too deeply: content starts beyond column ${MAX_BLOCK_COLUMN} (the limit of indentation and nesting)` };
    }
    const nl = text.indexOf('\n', i);
    at = nl < 0 ? text.length : nl + 1;
  }
  let opening = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) opening++;
  }
  if (opening <= MAX_FLOW_DEPTH) return null;
  let depth = 0;
  line = 1;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_FLOW_DEPTH) {
        return { path: '', line, message: `YAML nested too deeply: more than ${MAX_FLOW_DEPTH} levels of [ ] or { }` };
      }
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    else for (let i = token.indexOf('\n'); i >= 0; i = token.indexOf('\n', i + 1)) line++;
  }
  return null;
}

/** Most YAML errors reported: after one mistake the parser often reports every later token. */
export const MAX_SYNTAX_ERRORS = 10;

/** Each YAML error once, the first few of them, and how many more there were. */
function syntaxProblems(all: ConfigProblem[], total: number): ConfigProblem[] {
  const seen = new Set<string>();
  const unique = all.filter((p) => {
    const id = `${p.line}\n${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  if (unique.length <= MAX_SYNTAX_ERRORS && total === all.length) return unique;
  if (unique.length <= MAX_SYNTAX_ERRORS)
    return [...unique, { path: '', line: unique[unique.length - 1]?.line ?? 1, message: 'and more YAML syntax errors after these (fix the first ones first)' }];
  const rest = unique.length - MAX_SYNTAX_ERRORS + (total - all.length);
  const next = unique[MAX_SYNTAX_ERRORS] as ConfigProblem;
  return [
    ...unique.slice(0, MAX_SYNTAX_ERRORS),
    { path: '', line: next.line, message: `${rest} more YAML syntax error${rest === 1 ? '' : 's'} from here on (fix the first ones first)` },
  ];
}

/** Top-level CST errors after which the text is not composed (garbage makes thousands, slowly). */
const MAX_CST_ERRORS = 50;

/**
 * What `parseDocument` does, with a stop: the concrete syntax tree is read token by
 * token, and a text whose top level is mostly errors is answered from the first of them
 * without building a document (the composer spends microseconds on each error token, and
 * a megabyte of garbage holds hundreds of thousands).
 */
function compose(text: string, lineCounter: LineCounter): { doc: Doc } | { errors: ConfigProblem[] } {
  const tokens: CST.Token[] = [];
  const cstErrors: CST.ErrorToken[] = [];
  for (const token of new Parser(lineCounter.addNewLine).parse(text)) {
    if (token.type === 'error') {
      cstErrors.push(token);
      if (cstErrors.length > MAX_CST_ERRORS) {
        const first = cstErrors.slice(0, MAX_SYNTAX_ERRORS).map((t) => ({
          path: '',
          line: lineCounter.linePos(t.offset).line,
          message: `YAML syntax error: ${printable(t.message, 160)}`,
        }));
        return { errors: syntaxProblems(first, first.length + 1) };
      }
    }
    tokens.push(token);
  }
  // logLevel error: the library's warnings (stringified keys) go nowhere near stderr.
  const composer = new Composer({ uniqueKeys: true, logLevel: 'error' });
  let doc: Doc | null = null;
  for (const d of composer.compose(tokens, true, text.length)) {
    if (doc === null) doc = d as Doc;
    else {
      doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
      break;
    }
  }
  return { doc: doc as Doc };
}

export function parseYaml(text: string): YamlSource {
  const limit = limitProblem(text);
  if (limit !== null) return { data: undefined, errors: [limit], lineOf: () => null };
  const lineCounter = new LineCounter();
  // logLevel error: the library's warnings (stringified keys) go nowhere near stderr.
  const parsed = compose(text, lineCounter);
  if ('errors' in parsed) return { data: undefined, errors: parsed.errors, lineOf: () => null };
  const doc = parsed.doc;
  // Only the first errors are described (each may search the document): after one mistake
  // the parser can report thousands.
  const errors = syntaxProblems(
    doc.errors.slice(0, 5 * MAX_SYNTAX_ERRORS).map((e) => syntaxProblem(doc, lineCounter, e)),
    doc.errors.length,
  );
  const lineAt = (offset: number | undefined): number | null => (offset === undefined ? null : lineCounter.linePos(offset).line);
  function lineOf(path: readonly PathSegment[], key = false): number | null {
    let node: unknown = doc.contents;
    let line = lineAt((node as Node | null)?.range?.[0]);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) return line;
        if (key && i === path.length - 1) return lineAt((pair.key as Node).range?.[0]) ?? line;
        node = pair.value;
        line = lineAt((pair.value as Node | null)?.range?.[0] ?? (pair.key as Node).range?.[0]) ?? line;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (node === undefined) return line;
        line = lineAt((node as Node).range?.[0]) ?? line;
      } else {
        return line;
      }
    }
    return line;
  }

  let data: unknown;
  if (errors.length === 0) errors.push(...nodeProblems(doc, lineAt));
  if (errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The checks above find aliases to nothing and cycles; what is left is an alias bomb.
      errors.push({ path: '', line: biggestAliasLine(doc, lineAt), message: `YAML error: ${(err as Error).message} (aliases that expand too much)` });
    }
  }
  if (data !== undefined) errors.push(...valueProblems(data, lineOf));
  return { data, errors, lineOf };
}

/**
 * What the document holds that no configuration can: an alias to no anchor before it,
 * an alias inside the node it names (a value containing itself), a mapping or list used
 * as a key. Each located at its node. The depth limit keeps this recursion shallow.
 */
function nodeProblems(doc: Doc, lineAt: (offset: number | undefined) => number | null): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const lastAnchor = new Map<string, unknown>();
  const open = new Set<unknown>();
  const path: PathSegment[] = [];
  const problem = (offset: number | undefined, message: string) =>
    problems.push({ path: formatPath(path), line: lineAt(offset), message: `YAML error: ${message}` });
  const walk = (node: unknown): void => {
    if (isAlias(node)) {
      const name = printable(node.source, 40);
      const target = lastAnchor.get(node.source);
      if (target === undefined) problem(node.range?.[0], `alias *${name} refers to no anchor &${name} before it`);
      else if (open.has(target)) problem(node.range?.[0], `alias *${name} is inside the value anchored &${name}: that value would contain itself`);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const anchor = (node as { anchor?: string }).anchor;
    if (typeof anchor === 'string') lastAnchor.set(anchor, node);
    if (!isCollection(node)) return;
    open.add(node);
    node.items.forEach((item: unknown, i: number) => {
      if (isPair(item)) {
        if (isCollection(item.key)) problem(item.key.range?.[0], 'a mapping key must be a plain value, not a list or mapping');
        walk(item.key);
        path.push(isScalar(item.key) ? String(item.key.value) : '?');
        walk(item.value);
        path.pop();
      } else {
        path.push(i);
        walk(item);
        path.pop();
      }
    });
    open.delete(node);
  };
  walk(doc.contents);
  return problems;
}

/** Line of the alias that expands to the most nodes: where an alias bomb is detonated. */
function biggestAliasLine(doc: Doc, lineAt: (offset: number | undefined) => number | null): number | null {
  const lastAnchor = new Map<string, unknown>();
  const sizes = new Map<unknown, number>();
  let best: { size: number; offset: number | undefined } | null = null;
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const n = sizes.get(lastAnchor.get(node.source)) ?? 1;
      if (best === null || n > best.size) best = { size: n, offset: node.range?.[0] };
      return n;
    }
    if (isPair(node)) return size(node.key) + size(node.value);
    if (node === null || typeof node !== 'object') return 1;
    const anchor = (node as { anchor?: string }).anchor;
    let n = 1;
    if (isCollection(node)) for (const item of node.items) n = Math.min(Number.MAX_SAFE_INTEGER, n + size(item));
    sizes.set(node, n);
    if (typeof anchor === 'string') lastAnchor.set(anchor, node);
    return n;
  };
  size(doc.contents);
  const found = best as { size: number; offset: number | undefined } | null;
  return found === null ? null : lineAt(found.offset);
}

/**
 * Values the YAML can build but a configuration cannot hold: tagged sets, ordered maps,
 * binary data, timestamps. Everything else is plain JSON-like data.
 */
function valueProblems(data: unknown, lineOf: (path: readonly PathSegment[]) => number | null): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const path: PathSegment[] = [];
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        path.push(i);
        walk(v);
        path.pop();
      });
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind =
        value instanceof Set
          ? 'a set (!!set)'
          : value instanceof Map
            ? 'an ordered map (!!omap or !!pairs)'
            : value instanceof Date
              ? 'a timestamp'
              : value instanceof Uint8Array
                ? 'binary data (!!binary)'
                : 'a special value';
      problems.push({
        path: formatPath(path),
        line: lineOf(path),
        message: `${kind} cannot be used in a configuration: write a plain mapping, list or string`,
      });
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      path.push(k);
      walk(v);
      path.pop();
    }
  };
  walk(data);
  return problems;
}
