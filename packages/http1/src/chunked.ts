import type { H1Code } from './errors.js';

/** Receives the data of a chunked body, piece by piece (a method, so no closure per message). */
export interface ChunkSink {
  chunkData(buf: Buffer, start: number, end: number): void;
}

export interface ChunkLimits {
  /** Bytes of one chunk-size line, extensions included (else H1_CHUNK_LIMIT). */
  readonly maxLineBytes: number;
  /** Bytes of the trailer section (else H1_CHUNK_LIMIT). */
  readonly maxTrailerBytes: number;
}

/**
 * The chunked transfer coding (RFC 9112 §7.1) as a state machine over any split of the
 * input. One decoder per message (or `reset()` between messages).
 */
export class ChunkedDecoder {
  /** The last chunk and the trailer section (and its final CRLF) were read. */
  done = false;
  /** Set when feed returned -1. */
  error: H1Code | null = null;

  constructor(limits: ChunkLimits) {
    void limits;
  }

  reset(): void {
    throw new Error('not implemented');
  }

  /**
   * Consumes buf[start, end): calls sink.chunkData for every piece of chunk data (never
   * an empty one), validates sizes (1*HEXDIG, no sign, no whitespace inside, no overflow
   * past 2^53-1), extensions (`;name[=token|quoted-string]` with optional BWS around `;`
   * and `=`), the CRLF after each chunk's data, and trailer fields (token names, valid
   * values, no obs-fold). Returns the offset where it stopped: end, or just past the
   * body's final CRLF when done (the bytes after it belong to the next message); -1 on
   * a malformation (this.error set). After done or an error, feed returns start.
   */
  feed(buf: Buffer, start: number, end: number, sink: ChunkSink): number {
    void buf;
    void start;
    void end;
    void sink;
    throw new Error('not implemented');
  }
}
