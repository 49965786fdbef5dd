import type { Writable } from 'node:stream';

/** Writes `chunk` `times` times with backpressure (waiting for 'drain'), then ends the stream. */
export function writeRepeated(out: Writable, chunk: Buffer, times: number): void {
  let written = 0;
  const pump = (): void => {
    while (written < times) {
      written++;
      if (!out.write(chunk)) {
        out.once('drain', pump);
        return;
      }
    }
    out.end();
  };
  pump();
}
