// fast-check generators of valid HTTP/1.1 messages, and of mutations of them (for the
// properties, the differential test and the fuzzer's seeds).
import fc from 'fast-check';
import { appendFields, chunkSizeLine } from '../src/index.js';
import { KNOWN_METHODS } from '../src/methods.js';

export interface GenRequest {
  method: string;
  target: string;
  minor: 0 | 1;
  /** Flat [name, value, …] list, Host and framing fields included. */
  fields: string[];
  host: string | null;
  framing: 'none' | 'length' | 'chunked';
  length: number;
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const fieldName = token.filter((n) => !['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect'].includes(n.toLowerCase()));
/** A field value: no leading/trailing OWS, inner SP/HTAB, obs-text allowed. */
export const fieldValue = fc.oneof(fc.constant(''), fc.stringMatching(/^[\x21-\x7e\x80-\xff]([\x20\x21-\x7e\x80-\xff\t]{0,30}[\x21-\x7e\x80-\xff])?$/));
const regName = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
export const hostValue = fc
  .tuple(fc.oneof(regName, fc.constant('[::1]'), fc.constant('127.0.0.1')), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null }))
  .map(([h, port]) => (port === null ? h : `${h}:${port}`));
const pathChars = fc.stringMatching(/^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]{0,40}$/);
const method = fc.constantFrom(...[...KNOWN_METHODS].filter((m) => m !== 'CONNECT'));

export const genRequest: fc.Arbitrary<GenRequest> = fc
  .record({
    method,
    path: pathChars,
    form: fc.constantFrom('origin', 'origin', 'origin', 'absolute', 'asterisk'),
    minor: fc.constantFrom<0 | 1>(0, 1, 1, 1),
    host: fc.option(hostValue, { nil: null }),
    others: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 }),
    framing: fc.constantFrom<'none' | 'length' | 'chunked'>('none', 'length', 'chunked'),
    length: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
    hostAt: fc.nat(),
  })
  .map((g) => {
    const minor = g.minor;
    const host = minor === 1 && g.host === null ? 'fallback.test' : g.host;
    const form = g.form === 'absolute' && host === null ? 'origin' : g.form;
    const m = form === 'asterisk' ? 'OPTIONS' : g.method;
    const target = form === 'asterisk' ? '*' : form === 'absolute' ? `http://${host}/${g.path}` : `/${g.path}`;
    const framing = minor === 0 && g.framing === 'chunked' ? 'length' : g.framing;
    const fields: string[] = [];
    for (const [n, v] of g.others) fields.push(n, v);
    if (host !== null) fields.splice(2 * (g.hostAt % (g.others.length + 1)), 0, 'Host', host);
    if (framing === 'length') fields.push('Content-Length', String(g.length));
    if (framing === 'chunked') fields.push('Transfer-Encoding', 'chunked');
    return { method: m, target, minor, fields, host, framing, length: framing === 'length' ? g.length : 0 };
  });

export function requestText(r: GenRequest): string {
  return `${appendFields(`${r.method} ${r.target} HTTP/1.${r.minor}\r\n`, r.fields)}\r\n`;
}

export interface GenResponse {
  status: number;
  reason: string;
  minor: 0 | 1;
  fields: string[];
  framing: 'none' | 'length' | 'chunked';
}

export const genResponse: fc.Arbitrary<GenResponse> = fc
  .record({
    status: fc.integer({ min: 100, max: 999 }),
    reason: fc.stringMatching(/^([\x21-\x7e\x80-\xff][\x20-\x7e\x80-\xff\t]{0,20}[\x21-\x7e\x80-\xff])?$/),
    minor: fc.constantFrom<0 | 1>(0, 1, 1),
    others: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 }),
    framing: fc.constantFrom<'none' | 'length' | 'chunked'>('none', 'length', 'chunked'),
    length: fc.nat(),
  })
  .map((g) => {
    const framing = g.minor === 0 && g.framing === 'chunked' ? 'length' : g.framing;
    const fields: string[] = [];
    for (const [n, v] of g.others) fields.push(n, v);
    if (framing === 'length') fields.push('Content-Length', String(g.length));
    if (framing === 'chunked') fields.push('Transfer-Encoding', 'chunked');
    return { status: g.status, reason: g.reason, minor: g.minor, fields, framing };
  });

export function responseText(r: GenResponse): string {
  return `${appendFields(`HTTP/1.${r.minor} ${r.status} ${r.reason}\r\n`, r.fields)}\r\n`;
}

export interface GenChunked {
  chunks: string[];
  text: string;
}

const extension = fc.oneof(
  fc.constant(''),
  fc
    .tuple(token, fc.option(fc.oneof(token, fc.stringMatching(/^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x21-\x7e]){0,10}"$/)), { nil: null }))
    .map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)),
);

export const genChunked: fc.Arbitrary<GenChunked> = fc
  .record({
    chunks: fc.array(
      fc.tuple(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')),
        extension,
        fc.nat(3),
      ),
      { maxLength: 6 },
    ),
    lastExt: extension,
    trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 3 }),
  })
  .map((g) => {
    let text = '';
    for (const [data, ext, zeros] of g.chunks) text += `${'0'.repeat(zeros)}${chunkSizeLine(data.length).slice(0, -2)}${ext}\r\n${data}\r\n`;
    text += `0${g.lastExt}\r\n`;
    text = appendFields(text, g.trailers.flat());
    text += '\r\n';
    return { chunks: g.chunks.map((c) => c[0]), text };
  });

/** A mutation of `text`: bytes replaced, inserted, deleted or duplicated, biased toward the bytes that matter to HTTP. */
export const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x00, 0x3a, 0x2c, 0x3b, 0x22, 0x23, 0x2f, 0x7f, 0xff, 0x80, 0x30, 0x2b, 0x2d, 0x5f, 0x0b, 0x0c];

/** Byte edits of a message: at a position (modulo its length + 1), set, insert or delete a byte. */
export type Mutation = readonly [at: number, byte: number, op: 'set' | 'insert' | 'delete'];

/** `minLength` to `maxLength` edits with bytes from `bytes` (by default the INTERESTING ones). */
export function mutations(o: { readonly minLength?: number; readonly maxLength: number; readonly bytes?: readonly number[] }): fc.Arbitrary<Mutation[]> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom(...(o.bytes ?? INTERESTING)), fc.constantFrom('set' as const, 'insert' as const, 'delete' as const));
  return fc.array(edit, { minLength: o.minLength ?? 0, maxLength: o.maxLength });
}

/** `text` (latin1) with `muts` applied in order. */
export function mutate(text: string, muts: readonly Mutation[]): Buffer {
  const bytes = [...Buffer.from(text, 'latin1')];
  for (const [at, byte, op] of muts) {
    const i = at % (bytes.length + 1);
    if (op === 'set' && i < bytes.length) bytes[i] = byte;
    else if (op === 'insert') bytes.splice(i, 0, byte);
    else bytes.splice(i, 1);
  }
  return Buffer.from(bytes);
}
