import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { ConfigProblem, PathSegment } from './problems.js';

/** A parsed YAML document that can tell the line of any path in it. */
export interface YamlSource {
  readonly data: unknown;
  /** YAML syntax errors (duplicate keys included); when any, `data` is not usable. */
  readonly errors: readonly ConfigProblem[];
  /** Line of the node at `path` (or of its key when `key`), else of its nearest ancestor. */
  lineOf(path: readonly PathSegment[], key?: boolean): number | null;
}

export function parseYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const errors: ConfigProblem[] = doc.errors.map((e) => ({
    path: '',
    line: e.linePos?.[0]?.line ?? null,
    message: `YAML syntax error: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:$/, '')}`,
  }));
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

  return { data: errors.length === 0 ? doc.toJS({ maxAliasCount: 1000 }) : undefined, errors, lineOf };
}
