export { type HttpAccess, logHttpAccess, logTcpAccess, type TcpAccess } from './access-log.js';
export type { MetricsJson } from './aggregate.js';
export { IntakeMetrics } from './intake-metrics.js';
export { createLogger, type Logger, type LoggerOptions, type LogSink } from './logger.js';
export { DURATION_BUCKETS, LABEL, METHODS, METRIC, methodIndex, methodLabel, ORIGINAL_DURATION_BUCKETS } from './names.js';
export { Cell, type HistogramCells, MetricsTarget, ServerMetrics, WorkerMetrics } from './worker-metrics.js';
