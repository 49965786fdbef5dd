import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/**
 * The two undici classes the data plane uses, loaded from their own modules: undici's
 * index also loads fetch, WebSocket, caching and more, about 10 MB of memory in every
 * worker for nothing.
 */
const load = createRequire(import.meta.url);

export const Pool: typeof Undici.Pool = load('undici/lib/dispatcher/pool.js');
export const Client: typeof Undici.Client = load('undici/lib/dispatcher/client.js');
export type Pool = Undici.Pool;
export type Client = Undici.Client;
