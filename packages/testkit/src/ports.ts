import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports for rustlb's frontends and metrics in tests. Two hazards make "ask the kernel for
 * a free port, close it, use it later" fail now and then with EADDRINUSE:
 * - between the pick and rustlb binding it, the kernel may give that port to an outgoing
 *   connection (the same ephemeral range) of any process: tests open thousands;
 * - another test process (node:test runs files in parallel) may pick the same port.
 * So ports come from below the ephemeral range, where the kernel never picks, and each is
 * reserved with a file that other test processes see, for as long as this process lives.
 */
const RESERVATIONS = join(tmpdir(), 'rustlb-test-ports');
/** A reservation older than this is from a process that died without removing it. */
const STALE_MS = 60 * 60 * 1000;
const reserved: string[] = [];

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const HIGH = Math.min(ephemeralLow(), 65536);
const LOW = Math.max(1024, HIGH - 12_000);

/** Reserves `port` for this process unless a live test process holds it. */
function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  try {
    closeSync(openSync(file, 'wx'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (Date.now() - statSync(file).mtimeMs < STALE_MS) return false;
    utimesSync(file, new Date(), new Date());
  }
  if (reserved.length === 0) process.once('exit', release);
  reserved.push(file);
  return true;
}

function release(): void {
  for (const file of reserved) {
    try {
      unlinkSync(file);
    } catch {}
  }
}

/** True when nothing listens on 127.0.0.1:port right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 now, below the ephemeral range, held by no other test process. */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  for (;;) {
    const port = randomInt(LOW, HIGH);
    if (reserve(port) && (await canListen(port))) return port;
  }
}

/** N numbers as a tuple when N is a literal, so `const [a, b] = await freePorts(2)` needs no cast. */
type Ports<N extends number, Got extends number[] = []> = number extends N ? number[] : Got['length'] extends N ? Got : Ports<N, [...Got, number]>;

export async function freePorts<N extends number>(n: N): Promise<Ports<N>> {
  const out: number[] = [];
  while (out.length < n) out.push(await freePort());
  return out as Ports<N>;
}
