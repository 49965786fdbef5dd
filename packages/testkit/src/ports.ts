import { createServer } from 'node:net';

/**
 * Ports this process handed out already. The kernel may give a just-closed port again, so
 * two calls in a row (a frontend and a metrics address) could otherwise get the same one.
 */
const handedOut = new Set<number>();

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A port free on 127.0.0.1 now, never one this process was given before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** N numbers as a tuple when N is a literal, so `const [a, b] = await freePorts(2)` needs no cast. */
type Ports<N extends number, Got extends number[] = []> = number extends N ? number[] : Got['length'] extends N ? Got : Ports<N, [...Got, number]>;

export async function freePorts<N extends number>(n: N): Promise<Ports<N>> {
  const out: number[] = [];
  while (out.length < n) out.push(await freePort());
  return out as Ports<N>;
}
