import { type AdminState, RustlbError } from '@rustlb/core';
import type { CommandHandler } from '../target.js';

/** The handler for drain, enable and disable: they differ only in the state they set in the server table. */
export function serverState(state: AdminState): CommandHandler {
  return async (target, request) => {
    const server = request.server;
    if (typeof server !== 'string' || !server.includes('/')) {
      throw new RustlbError('RLB_ERR_CONTROL_REQUEST', 'a server is named BACKEND/ADDRESS, e.g. web/10.0.0.1:8080');
    }
    if (!target.servers.setAdmin(server, state)) {
      const known = target.servers.rows().map((r) => r.member.key);
      throw new RustlbError('RLB_ERR_CONTROL_REFUSED', `no server ${server} (servers: ${known.join(', ') || 'none'})`);
    }
    return { server, state };
  };
}
