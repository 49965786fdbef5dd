import { ChunkedDecoder, type ChunkSink, type HeadLimits, parseRequestHead, parseResponseHead, RequestHead, ResponseHead } from '../src/index.js';

export const LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 100 };
export const CHUNK_LIMITS = { maxLineBytes: 4096, maxTrailerBytes: 8192 };

export function parseRequest(text: string, limits: HeadLimits = LIMITS): { n: number; head: RequestHead } {
  const buf = Buffer.from(text, 'latin1');
  const head = new RequestHead();
  return { n: parseRequestHead(buf, 0, buf.length, limits, head), head };
}

export function parseResponse(text: string, headRequest = false, limits: HeadLimits = LIMITS): { n: number; head: ResponseHead } {
  const buf = Buffer.from(text, 'latin1');
  const head = new ResponseHead();
  return { n: parseResponseHead(buf, 0, buf.length, headRequest, limits, head), head };
}

/** Collects chunk data as latin1 text, checking no piece is empty. */
export class Collect implements ChunkSink {
  data = '';
  empty = 0;
  chunkData(buf: Buffer, start: number, end: number): void {
    if (end <= start) this.empty++;
    this.data += buf.toString('latin1', start, end);
  }
}

/** Feeds `body` to a fresh decoder in the given pieces; returns where it stopped (offset in body) or -1. */
export function decodePieces(
  body: Buffer,
  cuts: readonly number[],
  limits = CHUNK_LIMITS,
): { end: number; data: string; done: boolean; error: string | null; empty: number } {
  const d = new ChunkedDecoder(limits);
  const sink = new Collect();
  let from = 0;
  let end = -1;
  for (const cut of [...cuts, body.length]) {
    if (cut < from) continue;
    const r = d.feed(body, from, cut, sink);
    if (r < 0) break;
    if (d.done) {
      end = r;
      break;
    }
    from = cut;
  }
  return { end, data: sink.data, done: d.done, error: d.error, empty: sink.empty };
}

/** Parses `text` fed incrementally (growing end, as a proxy reading a socket would): the first non-zero result. */
export function parseRequestIncrementally(text: string, step = 1, limits: HeadLimits = LIMITS): { n: number; head: RequestHead } {
  const buf = Buffer.from(text, 'latin1');
  for (let end = Math.min(step, buf.length); ; end = Math.min(end + step, buf.length)) {
    const head = new RequestHead();
    const n = parseRequestHead(buf, 0, end, limits, head);
    if (n !== 0 || end === buf.length) return { n, head };
  }
}
