export { type ConfigDiff, diffConfig } from './diff.js';
export { deepFreeze, defaultAdminSocket, socketPath } from './normalize.js';
export { type ConfigProblem, formatProblem } from './problems.js';
export { SCHEMA_URL, schema } from './schema.js';
export { summarize } from './summary.js';
export { certificateNames, configFiles, tlsFilePath } from './tls-files.js';
export { parseDuration, parseSize } from './units.js';
export { type LoadedConfig, loadConfigFile, readConfigText, type ValidationResult, validateConfigFile, validateConfigText } from './validate.js';
