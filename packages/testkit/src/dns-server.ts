import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * What the server answers for a name: addresses (an empty list is NOERROR with no
 * records), or a failure: `servfail` (RCODE 2), `nxdomain` (RCODE 3), `timeout` (the
 * query is dropped, no answer at all).
 */
export type DnsAnswer = readonly string[] | 'servfail' | 'nxdomain' | 'timeout';

export interface DnsQuery {
  readonly name: string;
  /** `A`, `AAAA`, or the numeric type. */
  readonly type: string;
  readonly at: number;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/**
 * A small authoritative DNS server over UDP on 127.0.0.1, answering A and AAAA queries
 * from a table the test changes while it runs (`set`). Names not in the table are
 * NXDOMAIN. Every query is recorded. Point `global.resolvers` at `address`.
 */
export class DnsServer {
  readonly socket: Socket;
  readonly queries: DnsQuery[] = [];
  readonly #table = new Map<string, DnsAnswer>();

  constructor() {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, rinfo) => this.#answer(msg, rinfo));
    this.socket.on('error', () => {});
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** `127.0.0.1:port`, as `global.resolvers` takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  listen(port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, '127.0.0.1', () => {
        this.socket.off('error', reject);
        resolve(this);
      });
    });
  }

  /** Sets what `name` answers from now on; IPv4 addresses go in A answers, IPv6 in AAAA. */
  set(name: string, answer: DnsAnswer): void {
    this.#table.set(normalize(name), answer);
  }

  /** Queries for `name` received so far (of one type when given). */
  queriesFor(name: string, type?: string): number {
    const n = normalize(name);
    return this.queries.filter((q) => q.name === n && (type === undefined || q.type === type)).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  #answer(msg: Buffer, rinfo: RemoteInfo): void {
    const q = parseQuery(msg);
    if (q === null) return;
    const typeName = q.type === TYPE_A ? 'A' : q.type === TYPE_AAAA ? 'AAAA' : String(q.type);
    this.queries.push({ name: q.name, type: typeName, at: Date.now() });
    const answer = this.#table.get(q.name) ?? 'nxdomain';
    if (answer === 'timeout') return;
    let rcode = 0;
    let records: Buffer[] = [];
    if (answer === 'servfail') rcode = 2;
    else if (answer === 'nxdomain') rcode = 3;
    else if (q.type === TYPE_A) records = answer.filter((ip) => isIPv4(ip)).map((ip) => record(TYPE_A, ipv4Bytes(ip)));
    else if (q.type === TYPE_AAAA) records = answer.filter((ip) => isIPv6(ip)).map((ip) => record(TYPE_AAAA, ipv6Bytes(ip)));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR, the query's opcode and RD, AA, RA, and the RCODE.
    const flags = 0x8000 | (msg.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | rcode;
    header.writeUInt16BE(flags, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    this.socket.send(Buffer.concat([header, q.question, ...records]), rinfo.port, rinfo.address);
  }
}

export function startDnsServer(port = 0): Promise<DnsServer> {
  return new DnsServer().listen(port);
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The first question of a query: its name, type and its bytes (echoed in the answer). */
function parseQuery(msg: Buffer): { name: string; type: number; question: Buffer } | null {
  if (msg.length < 12 || (msg.readUInt16BE(2) & 0x8000) !== 0 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    const len = msg[at];
    if (len === undefined || len > 63) return null;
    at++;
    if (len === 0) break;
    if (at + len > msg.length) return null;
    labels.push(msg.toString('latin1', at, at + len));
    at += len;
  }
  if (at + 4 > msg.length) return null;
  const type = msg.readUInt16BE(at);
  return { name: normalize(labels.join('.')), type, question: msg.subarray(12, at + 4) };
}

/** An answer record named by a pointer to the question's name (offset 12), class IN, TTL 0 (nothing may cache it). */
function record(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(0, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail] = ip.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const h = parts(head);
  const t = tail === undefined ? [] : parts(tail);
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}
