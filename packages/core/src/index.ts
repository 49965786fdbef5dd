export { formatHostPort, isBadIpv4, isHostname, normalizeIp, parseHostPort } from './address.js';
export { cidrBlockList, parseCidr } from './cidr.js';
export type {
  Algorithm,
  BackendConfig,
  BackendTls,
  FrontendConfig,
  FrontendTls,
  GlobalConfig,
  HeaderRule,
  HealthCheckSettings,
  HealthCheckType,
  HostPort,
  HttpSettings,
  HttpTimeouts,
  LogFormat,
  LogLevel,
  MetricsSettings,
  Protocol,
  ProxyProtocolVersion,
  ResolvedConfig,
  RouteConfig,
  ServerConfig,
  StatusPageSettings,
  TcpSettings,
  TlsCertificate,
  TlsVersion,
} from './config-types.js';
export {
  type CertificateStatus,
  CONTROL_COMMANDS,
  type ControlCommand,
  type ControlError,
  type ControlRequest,
  type ControlResponse,
  type ReloadResult,
  type ServerStatusLine,
  type StatusResult,
  type WorkerStatus,
} from './control.js';
export { ERROR_CODES, type ErrorCode, type ErrorCodeInfo, errorMessage, isRustlbError, RustlbError } from './errors.js';
export {
  FRAMING_FIELDS,
  fieldValueProblem,
  HEADER_VARIABLES,
  type HeaderVariable,
  headerTemplateVariables,
  invalidFieldValueAt,
  isFieldName,
  isFieldValue,
  isFieldValueByte,
  renderHeaderTemplate,
} from './http-field.js';
export { type AdminState, isServerAvailable, type ServerEntry, serverKey, type Topology } from './topology.js';
export { VERSION } from './version.js';
