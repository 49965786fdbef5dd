/**
 * The configuration as the YAML gives it once the schema has accepted it and filled in
 * its defaults (snake_case, durations still text). Only cross-checks and the
 * normaliser read this shape.
 */
export interface RawHealthCheck {
  type: 'tcp' | 'http';
  path: string;
  expected_status: number;
  interval?: string;
  timeout?: string;
  unhealthy_threshold?: number;
  healthy_threshold?: number;
  cooldown?: string;
}

export interface RawBackend {
  name: string;
  servers: { address: string; weight: number }[];
  health_check?: RawHealthCheck;
  resolve_interval: string;
  tls?: RawBackendTls;
  send_proxy?: 'v1' | 'v2';
}

export interface RawFrontendTls {
  certificates: { cert: string; key: string }[];
  min_version: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  alpn?: string[];
}

export interface RawBackendTls {
  enabled: boolean;
  verify: boolean;
  ca?: string;
  servername?: string;
  cert?: string;
  key?: string;
}

export interface RawRoute {
  host?: string;
  path_prefix?: string;
  methods?: string[];
  backend: string;
  algorithm?: string;
}

export interface RawFrontend {
  name: string;
  listen: string;
  protocol: 'tcp' | 'http';
  backend: string;
  algorithm: string;
  max_connections?: number;
  tcp: { connect_timeout: string; idle_timeout: string };
  http: {
    request_headers: Record<string, string | number | boolean>;
    response_headers: Record<string, string | number | boolean>;
    remove_request_headers: string[];
    remove_response_headers: string[];
    via: boolean;
    x_real_ip: boolean;
    served_by: boolean;
    trusted_proxies: string[];
    max_header_size: string | number;
    timeouts: {
      client_header: string;
      client_idle: string;
      client_stall: string;
      connect: string;
      response: string;
      tunnel_idle: string;
      upstream_idle: string;
    };
  };
  routes: RawRoute[];
  tls?: RawFrontendTls;
  proxy_protocol?: 'accept';
}

export interface RawConfig {
  global: {
    log_level: string;
    log_format: string;
    metrics: { enabled: boolean; probes?: boolean; address: string; path: string };
    workers: number | 'auto';
    shutdown_delay: string;
    shutdown_timeout: string;
    admin: { socket?: string; status?: boolean; status_actions: boolean; token?: string };
    access_log: boolean;
    resolvers: string[];
  };
  health_check_defaults: {
    interval: string;
    timeout: string;
    unhealthy_threshold: number;
    healthy_threshold: number;
    cooldown: string;
  };
  frontends: RawFrontend[];
  backends: RawBackend[];
}
