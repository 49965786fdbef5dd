export { LOCAL_PROXY_HEADER } from './probes/connect.js';
export { type HttpProbeTarget, probeHttp } from './probes/http.js';
export type { ProbeResult, ProbeTarget } from './probes/result.js';
export { probeTcp } from './probes/tcp.js';
export { JitteredScheduler, jittered, type SchedulerOptions } from './scheduler.js';
export {
  INITIAL_HEALTH,
  nextDeadline,
  type Observation,
  observePassive,
  observeProbe,
  type ServerHealth,
  type Transition,
  tick,
} from './state.js';
