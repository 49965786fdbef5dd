import { serverState } from './server-state.js';

/** No new requests or connections; existing ones finish; health checks go on. */
export const drain = serverState('drain');
