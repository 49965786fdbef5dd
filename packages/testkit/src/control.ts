import { connect } from 'node:net';

/**
 * Writes raw bytes on a control socket and resolves with the first line answered (or
 * what came before the daemon closed). For requests rustlb-ctl would never send, and
 * for status reads faster than spawning rustlb-ctl.
 */
export function controlExchange(socketPath: string, bytes: string | Buffer, timeoutMs = 10_000): Promise<{ line: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer on ${socketPath} within ${timeoutMs}ms (got ${JSON.stringify(buffer.slice(0, 200))})`));
    }, timeoutMs);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      const nl = buffer.indexOf('\n');
      resolve({ line: nl >= 0 ? buffer.slice(0, nl) : buffer, closed });
    };
    s.setEncoding('utf8');
    s.on('error', (err) => {
      if (buffer === '') {
        clearTimeout(timer);
        reject(err);
      } else done(true);
    });
    s.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.includes('\n')) done(false);
    });
    s.on('close', () => done(true));
    s.on('connect', () => s.write(bytes));
  });
}

/** One control command, answered as the daemon answers rustlb-ctl. */
export async function control<T = unknown>(socketPath: string, command: string, extra: Record<string, unknown> = {}): Promise<T> {
  const { line } = await controlExchange(socketPath, `${JSON.stringify({ id: 1, command, ...extra })}\n`);
  const answer = JSON.parse(line) as { ok: boolean; result?: T; error?: { message: string } };
  if (!answer.ok) throw new Error(`${command}: ${answer.error?.message}`);
  return answer.result as T;
}
