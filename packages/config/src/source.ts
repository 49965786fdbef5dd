import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit, type YAMLError } from 'yaml';
import { type ConfigProblem, formatPath, type PathSegment } from './problems.js';

/** A parsed YAML document that can tell the line of any path in it. */
export interface YamlSource {
  readonly data: unknown;
  /** YAML syntax errors (duplicate keys included); when any, `data` is not usable. */
  readonly errors: readonly ConfigProblem[];
  /** Line of the node at `path` (or of its key when `key`), else of its nearest ancestor. */
  lineOf(path: readonly PathSegment[], key?: boolean): number | null;
}

type Doc = ReturnType<typeof parseDocument>;

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
  const line = e.linePos?.[0]?.line ?? null;
  const text = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:$/, '');
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

export function parseYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const errors = doc.errors.map((e) => syntaxProblem(doc, lineCounter, e));
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
  if (errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      // An alias bomb (or an alias to nothing) must be a config error, not a crash.
      errors.push({ path: '', line: null, message: `YAML error: ${(err as Error).message}` });
    }
  }
  return { data, errors, lineOf };
}
