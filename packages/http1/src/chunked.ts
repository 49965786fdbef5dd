import type { H1Code } from './errors.js';
import { CR, HEX, HTAB, LF, SP, TOKEN, VALUE } from './tables.js';

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
// Decoder states: the size line, the extensions after it, the data and its CRLF, the trailer section.
const SIZE_START = 0;
const SIZE = 1;
const SIZE_BWS = 2;
const EXT_BWS = 3;
const EXT_NAME_START = 4;
const EXT_NAME = 5;
const EXT_NAME_BWS = 6;
const EXT_VALUE_START = 7;
const EXT_TOKEN = 8;
const EXT_QUOTED = 9;
const EXT_QUOTED_PAIR = 10;
const EXT_TOKEN_END = 11;
// Every state above belongs to the size line (its length is limited).
const SIZE_LF = 12;
const DATA = 13;
const DATA_CR = 14;
const DATA_LF = 15;
const TRAILER_START = 16;
const TRAILER_NAME = 17;
const TRAILER_VALUE = 18;
const TRAILER_LF = 19;
const END_LF = 20;

const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/** qdtext (RFC 9110 §5.6.4): a value byte other than `"` and `\`. */
const QDTEXT = (() => {
  const t = VALUE.slice();
  t[0x22] = 0;
  t[0x5c] = 0;
  return t;
})();

/**
 * The chunked transfer coding (RFC 9112 §7.1) as a state machine over any split of the
 * input. One decoder per message (or `reset()` between messages).
 */
export class ChunkedDecoder {
  /** The last chunk and the trailer section (and its final CRLF) were read. */
  done = false;
  /** Set when feed returned -1. */
  error: H1Code | null = null;
  private state = SIZE_START;
  /** Data bytes still due in the current chunk, or the size being read. */
  private size = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private readonly maxLine: number;
  private readonly maxTrailer: number;

  constructor(limits: ChunkLimits) {
    this.maxLine = limits.maxLineBytes;
    this.maxTrailer = limits.maxTrailerBytes;
  }

  reset(): void {
    this.done = false;
    this.error = null;
    this.state = SIZE_START;
    this.size = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
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
    if (this.done || this.error !== null) return start;
    if (end > buf.length) end = buf.length;
    let state = this.state;
    let p = start;
    while (p < end) {
      if (state === DATA) {
        const avail = end - p;
        const n = Math.min(avail, this.size);
        sink.chunkData(buf, p, p + n);
        p += n;
        this.size -= n;
        if (this.size === 0) state = DATA_CR;
        continue;
      }
      const c = buf[p++] as number;
      // The limits count a line's bytes without its CRLF, and the trailer section without its final CRLF.
      if (state < SIZE_LF) {
        if (c !== CR && ++this.lineBytes > this.maxLine) return this.fail('H1_CHUNK_LIMIT');
      } else if (state >= TRAILER_START && state <= TRAILER_LF && !(state === TRAILER_START && c === CR)) {
        if (++this.trailerBytes > this.maxTrailer) return this.fail('H1_CHUNK_LIMIT');
      }
      switch (state) {
        case SIZE_START: {
          const h = HEX[c] as number;
          if (h === 0) return this.fail('H1_BAD_CHUNK_SIZE');
          this.size = h - 1;
          state = SIZE;
          break;
        }
        case SIZE: {
          const h = HEX[c] as number;
          if (h !== 0) {
            this.size = this.size * 16 + (h - 1);
            if (this.size > MAX_SIZE) return this.fail('H1_BAD_CHUNK_SIZE');
          } else if (c === CR) state = SIZE_LF;
          else if (c === 0x3b) state = EXT_NAME_START;
          else if (c === SP || c === HTAB) state = SIZE_BWS;
          else return this.fail('H1_BAD_CHUNK_SIZE');
          break;
        }
        case SIZE_BWS:
          // Whitespace after the size is only BWS before an extension.
          if (c === 0x3b) state = EXT_NAME_START;
          else if (c !== SP && c !== HTAB) return this.fail('H1_BAD_CHUNK_SIZE');
          break;
        case EXT_BWS:
          if (c === 0x3b) state = EXT_NAME_START;
          else if (c !== SP && c !== HTAB) return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_NAME_START:
          if (TOKEN[c] === 1) state = EXT_NAME;
          else if (c !== SP && c !== HTAB) return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_NAME:
          if (TOKEN[c] === 1) break;
          if (c === CR) state = SIZE_LF;
          else if (c === 0x3b) state = EXT_NAME_START;
          else if (c === 0x3d) state = EXT_VALUE_START;
          else if (c === SP || c === HTAB) state = EXT_NAME_BWS;
          else return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_NAME_BWS:
          if (c === 0x3b) state = EXT_NAME_START;
          else if (c === 0x3d) state = EXT_VALUE_START;
          else if (c !== SP && c !== HTAB) return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_VALUE_START:
          if (TOKEN[c] === 1) state = EXT_TOKEN;
          else if (c === 0x22) state = EXT_QUOTED;
          else if (c !== SP && c !== HTAB) return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_TOKEN:
          if (TOKEN[c] === 1) break;
          if (c === CR) state = SIZE_LF;
          else if (c === 0x3b) state = EXT_NAME_START;
          else if (c === SP || c === HTAB) state = EXT_BWS;
          else return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_QUOTED:
          if (c === 0x22) state = EXT_TOKEN_END;
          else if (c === 0x5c) state = EXT_QUOTED_PAIR;
          else if (QDTEXT[c] !== 1) return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case EXT_QUOTED_PAIR:
          if (VALUE[c] !== 1) return this.fail('H1_BAD_CHUNK_EXTENSION');
          state = EXT_QUOTED;
          break;
        case EXT_TOKEN_END:
          if (c === CR) state = SIZE_LF;
          else if (c === 0x3b) state = EXT_NAME_START;
          else if (c === SP || c === HTAB) state = EXT_BWS;
          else return this.fail('H1_BAD_CHUNK_EXTENSION');
          break;
        case SIZE_LF:
          if (c !== LF) return this.fail('H1_BAD_CHUNK_SIZE');
          this.lineBytes = 0;
          state = this.size === 0 ? TRAILER_START : DATA;
          break;
        case DATA_CR:
          if (c !== CR) return this.fail('H1_BAD_CHUNK_DATA_END');
          state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== LF) return this.fail('H1_BAD_CHUNK_DATA_END');
          state = SIZE_START;
          break;
        case TRAILER_START:
          if (c === CR) state = END_LF;
          else if (TOKEN[c] === 1) state = TRAILER_NAME;
          else return this.fail('H1_BAD_TRAILER');
          break;
        case TRAILER_NAME:
          if (c === 0x3a) state = TRAILER_VALUE;
          else if (TOKEN[c] !== 1) return this.fail('H1_BAD_TRAILER');
          break;
        case TRAILER_VALUE:
          if (c === CR) state = TRAILER_LF;
          else if (VALUE[c] !== 1) return this.fail('H1_BAD_TRAILER');
          break;
        case TRAILER_LF:
          if (c !== LF) return this.fail('H1_BAD_TRAILER');
          state = TRAILER_START;
          break;
        case END_LF:
          if (c !== LF) return this.fail('H1_BAD_TRAILER');
          this.done = true;
          this.state = state;
          return p;
      }
    }
    this.state = state;
    return p;
  }

  private fail(code: H1Code): -1 {
    this.error = code;
    return -1;
  }
}
