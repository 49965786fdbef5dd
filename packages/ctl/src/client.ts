import { connect } from 'node:net';
import { type ControlCommand, type ControlResponse, RustlbError } from '@rustlb/core';

/**
 * Sends one request on the control socket and waits for its answer. Nothing listening
 * there is RLB_ERR_NOT_RUNNING (exit 3 in the CLI).
 */
export function request(socketPath: string, command: ControlCommand, server: string | undefined, timeoutMs: number): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RustlbError('RLB_ERR_CONTROL_REFUSED', `no answer from rustlb at ${socketPath} within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify({ id: 1, command, ...(server === undefined ? {} : { server }) })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(buffer.slice(0, nl)) as ControlResponse);
      } catch {
        reject(new RustlbError('RLB_ERR_CONTROL_REQUEST', 'the daemon sent an answer that is not JSON'));
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') {
        reject(new RustlbError('RLB_ERR_NOT_RUNNING', `rustlb is not running at ${socketPath}`));
      } else if (err.code === 'EACCES') {
        reject(new RustlbError('RLB_ERR_CONTROL_REFUSED', `permission denied on ${socketPath} (the socket is 0600: run as the user rustlb runs as)`));
      } else {
        reject(new RustlbError('RLB_ERR_CONTROL_REFUSED', `${socketPath}: ${err.message}`));
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (!buffer.includes('\n')) reject(new RustlbError('RLB_ERR_CONTROL_REFUSED', `rustlb at ${socketPath} closed the connection without answering`));
    });
  });
}
