export { Blackhole } from './blackhole.js';
export {
  backend,
  type ConfigBlocks,
  type ConfigParts,
  type Extra,
  FAST_CHECK,
  frontend,
  httpCheck,
  type LbConfig,
  lbConfig,
  QUIET_CHECK,
  type ServerSpec,
  tcpFrontend,
  type WebPoolOptions,
  webPool,
} from './config-builder.js';
export { ConfigMapVolume, type RustlbAtOptions, saveByRename, startRustlbAt } from './config-files.js';
export { control, controlExchange } from './control.js';
export { type DnsAnswer, type DnsQuery, DnsServer, startDnsServer } from './dns-server.js';
export { get, keepAliveAgent, type RawResult, type RequestOptions, type Response, raw, statuses } from './http-client.js';
export { type Handler, HttpUpstream, type SeenRequest, startHttpUpstream } from './http-upstream.js';
export { type HttpLoadOptions, httpLoad, Load, type LoadFailure, type TcpLoadOptions, tcpLoad } from './load.js';
export { freePort, freePorts } from './ports.js';
export { familyOf, monotonicSeries, parseMetrics, type Sample, type Scrape, samplesOf, seriesKey } from './prom.js';
export { type ParsedResponse, RawConnection } from './raw-connection.js';
export { type RawHandler, RawHttpUpstream, type RawRequest, startRawHttpUpstream } from './raw-http-upstream.js';
export { CTL_BIN, type LogLine, metricValue, ROOT, RUSTLB_BIN, type RustlbOptions, RustlbProcess, runCtl, runRustlb } from './rustlb.js';
export { TaggedLoad, type TaggedResult, taggedSentAt } from './tagged-load.js';
export { startTcpUpstream, TcpUpstream } from './tcp-upstream.js';
export { type CertFiles, type ServerCertOptions, TestPki } from './tls-certs.js';
export { once, waitFor } from './wait.js';
export { writeRepeated } from './write-repeated.js';
