import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { ProxyProtocolVersion } from '@rustlb/core';
import { type ProbeTarget, tlsOptions } from './result.js';

/**
 * The PROXY header of a connection the proxy makes on its own behalf (PROXY protocol
 * spec, §2.1 and §2.2): v1 `PROXY UNKNOWN`, v2 the `LOCAL` command with no address. The
 * server accepts the connection and uses its real addresses, as HAProxy's checks of a
 * `send-proxy` server do. Without it a server that requires the header on every
 * connection (nginx's `listen ... proxy_protocol`) would refuse every check.
 */
export const LOCAL_PROXY_HEADER: Readonly<Record<ProxyProtocolVersion, Buffer>> = {
  v1: Buffer.from('PROXY UNKNOWN\r\n', 'latin1'),
  // Signature, version 2 + LOCAL, family UNSPEC over UNSPEC, no address block.
  v2: Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]),
};

/**
 * A probe's connection, as the workers' connections to the server are made: the PROXY
 * header first when the backend sends one, then TLS when the backend speaks it. `ready`
 * is the event that says the connection is up (`connect`, or `secureConnect` once the
 * certificate is verified).
 */
export function connectProbe(target: ProbeTarget): { socket: Socket | TLSSocket; ready: 'connect' | 'secureConnect' } {
  const tls = target.tls ?? null;
  const header = target.sendProxy == null ? null : LOCAL_PROXY_HEADER[target.sendProxy];
  if (header === null) {
    return tls === null
      ? { socket: connect({ host: target.host, port: target.port }), ready: 'connect' }
      : { socket: tlsConnect(tlsOptions(target, tls)), ready: 'secureConnect' };
  }
  const tcp = connect({ host: target.host, port: target.port });
  // Queued until the connection is up, and before anything else written to it (the ClientHello too).
  tcp.write(header);
  if (tls === null) return { socket: tcp, ready: 'connect' };
  const socket = tlsConnect({ ...tlsOptions(target, tls), socket: tcp });
  // The TCP socket's own errors (refused, reset) reach the TLS socket's listeners.
  tcp.on('error', (err) => socket.destroy(err));
  return { socket, ready: 'secureConnect' };
}
