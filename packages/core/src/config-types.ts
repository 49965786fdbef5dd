/**
 * The resolved configuration: what `@rustlb/config` produces after parsing, validation
 * and normalisation, and what the primary sends to workers. Durations are milliseconds,
 * sizes are bytes, every default is filled in. It is plain data (JSON-safe) so it can
 * cross the IPC channel unchanged, and it is deep-frozen once built.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type Algorithm = 'round_robin' | 'weighted' | 'least_connections' | 'ip_hash';
export type Protocol = 'tcp' | 'http';
export type HealthCheckType = 'tcp' | 'http';

/** A parsed `host:port`; `host` never carries IPv6 brackets. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface MetricsSettings {
  readonly enabled: boolean;
  /** Serve /livez, /healthz, /readyz and the status page on `address` (`global.metrics.probes`, unset: `enabled`). Neither: nothing is bound. */
  readonly probes: boolean;
  readonly address: HostPort;
  readonly path: string;
}

/** The status page on the metrics address (`global.admin.status`, `status_actions`, `token`). */
export interface StatusPageSettings {
  /** `true`: served on any address; `false`: never; `null` (unset): only on a loopback address. */
  readonly enabled: boolean | null;
  /** Drain / disable / enable buttons (only with a token). */
  readonly actions: boolean;
  readonly token: string | null;
}

export interface GlobalConfig {
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly metrics: MetricsSettings;
  /** `auto` = os.availableParallelism(). */
  readonly workers: number | 'auto';
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;
  /** Absolute path of the control socket. */
  readonly adminSocket: string;
  readonly statusPage: StatusPageSettings;
  readonly accessLog: boolean;
  /** DNS servers for backend hostnames; empty = the system resolver. */
  readonly resolvers: readonly HostPort[];
}

export interface HealthCheckSettings {
  readonly type: HealthCheckType;
  readonly path: string;
  readonly expectedStatus: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly cooldownMs: number;
}

export interface ServerConfig {
  /** The address exactly as configured (`host:port`). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** True when `host` is a name to resolve by DNS rather than an IP literal. */
  readonly dns: boolean;
}

export interface BackendConfig {
  readonly name: string;
  readonly servers: readonly ServerConfig[];
  readonly healthCheck: HealthCheckSettings;
  readonly resolveIntervalMs: number;
  /** TLS to the servers (`backends[].tls` with `enabled: true`), or null for plain TCP. */
  readonly tls: BackendTls | null;
  /** A PROXY protocol header sent first on every new server connection (`backends[].send_proxy`), or null. */
  readonly sendProxy: ProxyProtocolVersion | null;
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
export type ProxyProtocolVersion = 'v1' | 'v2';

/**
 * One certificate of a TLS frontend, read by the primary: workers never read the disk.
 * The key is PEM text that goes only to the workers, never to a log, a status answer or
 * a metric.
 */
export interface TlsCertificate {
  /** The files, absolute (a relative path in the file is resolved against the configuration file's directory): for status and watching. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate chain, PEM, as in the file. */
  readonly certPem: string;
  /** The private key, PEM. */
  readonly keyPem: string;
  /** DNS names it covers (subjectAltName DNS entries, else the CN), lower-cased; wildcards kept as `*.example.com`. */
  readonly names: readonly string[];
  /** The end of its validity, ms since the epoch. */
  readonly notAfterMs: number;
  /** SHA-256 fingerprint (`AB:CD:…`), to tell certificates apart in status and logs. */
  readonly fingerprint: string;
}

/** `frontends[].tls`: TLS terminated by rustlb. */
export interface FrontendTls {
  /** Chosen by SNI (exact names before wildcards); the first is the default for clients without SNI or with an unknown name. */
  readonly certificates: readonly TlsCertificate[];
  readonly minVersion: TlsVersion;
  /** OpenSSL cipher list, or null for Node's default. */
  readonly ciphers: string | null;
  /** ALPN protocols offered (`http/1.1` for http frontends by default); empty: no ALPN. */
  readonly alpn: readonly string[];
}

/** `backends[].tls`: TLS from rustlb to the servers. */
export interface BackendTls {
  /** Verify the server's certificate chain and name (default true). */
  readonly verify: boolean;
  /** CA bundle to verify against (PEM) and its file, or null for Node's bundled CAs. */
  readonly caPem: string | null;
  readonly caFile: string | null;
  /** SNI and the name verified; null: the server's host when it is a DNS name, no SNI for an IP. */
  readonly servername: string | null;
  /** Client certificate and key for mTLS (PEM, files), or null. */
  readonly certPem: string | null;
  readonly keyPem: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
}

export interface TcpSettings {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface HttpTimeouts {
  readonly clientHeaderMs: number;
  readonly clientIdleMs: number;
  /** A client that neither sends body bytes it owes nor reads the response for this long is cut off. */
  readonly clientStallMs: number;
  readonly connectMs: number;
  readonly responseMs: number;
  /** A WebSocket tunnel with no byte either way for this long is closed. */
  readonly tunnelIdleMs: number;
  readonly upstreamIdleMs: number;
}

/** A header rule: name as configured, value template with `$client_ip` & co. */
export interface HeaderRule {
  readonly name: string;
  readonly value: string;
}

export interface HttpSettings {
  readonly requestHeaders: readonly HeaderRule[];
  readonly responseHeaders: readonly HeaderRule[];
  /** Lower-cased header names. */
  readonly removeRequestHeaders: readonly string[];
  readonly removeResponseHeaders: readonly string[];
  readonly via: boolean;
  /** Set `X-Real-IP: <client address>` on requests (the original always did), unless `requestHeaders` sets it. */
  readonly xRealIp: boolean;
  /** Set `X-Served-By: BACKEND:ADDRESS` on responses (the original always did), unless `responseHeaders` sets it. */
  readonly servedBy: boolean;
  /** CIDRs (`10.0.0.0/8`, `::1/128`) whose X-Forwarded-Proto/-Host are kept. */
  readonly trustedProxies: readonly string[];
  readonly maxHeaderSize: number;
  readonly timeouts: HttpTimeouts;
}

export interface RouteConfig {
  /** Lower-cased; exact, or `*.example.com` (any depth of subdomain). */
  readonly host: string | null;
  readonly pathPrefix: string | null;
  /** Upper-cased method names. */
  readonly methods: readonly string[] | null;
  readonly backend: string;
  /** Null = the frontend's algorithm. */
  readonly algorithm: Algorithm | null;
}

export interface FrontendConfig {
  readonly name: string;
  /** `listen` exactly as configured. */
  readonly listenText: string;
  readonly listen: HostPort;
  readonly protocol: Protocol;
  readonly backend: string;
  readonly algorithm: Algorithm;
  readonly maxConnections: number | null;
  readonly tcp: TcpSettings;
  readonly http: HttpSettings;
  readonly routes: readonly RouteConfig[];
  /** TLS termination, or null for plain TCP. */
  readonly tls: FrontendTls | null;
  /** `proxy_protocol: accept`: every connection starts with a PROXY v1 or v2 header, whose source address is the client. */
  readonly proxyProtocol: boolean;
}

export interface ResolvedConfig {
  readonly global: GlobalConfig;
  readonly healthCheckDefaults: HealthCheckSettings;
  readonly frontends: readonly FrontendConfig[];
  readonly backends: readonly BackendConfig[];
}
