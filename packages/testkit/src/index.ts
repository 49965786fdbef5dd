export { ConfigMapVolume, type RustlbAtOptions, saveByRename, startRustlbAt } from './config-files.js';
export { get, keepAliveAgent, type RawResult, type RequestOptions, type Response, raw, statuses } from './http-client.js';
export { type Handler, HttpUpstream, type SeenRequest, startHttpUpstream } from './http-upstream.js';
export { type HttpLoadOptions, httpLoad, Load, type LoadFailure, type TcpLoadOptions, tcpLoad } from './load.js';
export { freePort, freePorts } from './ports.js';
export { CTL_BIN, type LogLine, metricValue, ROOT, RUSTLB_BIN, type RustlbOptions, RustlbProcess, runCtl, runRustlb } from './rustlb.js';
export { startTcpUpstream, TcpUpstream } from './tcp-upstream.js';
export { once, waitFor } from './wait.js';
