export { ProxyContext, RequestIds } from './context.js';
export { DataPlane, type Frontend } from './data-plane.js';
export { NO_HOOKS, type ProxyHooks } from './hooks.js';
export { HttpFrontend } from './http/http-frontend.js';
export { HttpState } from './http/http-state.js';
export { ServerSlot } from './server-slot.js';
export { BackendTable, ProxyTables } from './tables.js';
export { TcpFrontend, TcpState } from './tcp/tcp-frontend.js';
