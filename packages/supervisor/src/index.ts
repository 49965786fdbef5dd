export { applyOverrides, type Overrides } from './config-owner.js';
export { Supervisor, type SupervisorOptions } from './supervisor.js';
