export { ProxyContext, RequestIds } from './context.js';
export { DataPlane, type Frontend } from './data-plane.js';
export { NO_HOOKS, type ProxyHooks } from './hooks.js';
export { HttpFrontend } from './http/http-frontend.js';
export { HttpState } from './http/http-state.js';
export {
  encodeProxyHeader,
  PROXY_V1_MAX,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  type ProxyEndpoint,
  ProxyHeader,
  parseProxyHeader,
} from './proxy-protocol.js';
export { ServerSlot } from './server-slot.js';
export { BackendTable, ProxyTables } from './tables.js';
export { TcpFrontend, TcpState } from './tcp/tcp-frontend.js';
