import { EXIT, json, type Outcome } from '../output.js';

const SAYS: Readonly<Record<string, string>> = {
  drain: 'draining: no new requests or connections; existing ones finish; health checks go on',
  disabled: 'disabled (maintenance): no new requests or connections; health checks paused',
  enabled: 'enabled: back in rotation as health decides',
};

export function serverStateOutcome(result: { server: string; state: string }, asJson: boolean): Outcome {
  if (asJson) return { exitCode: EXIT.ok, stdout: json(result) };
  return { exitCode: EXIT.ok, stdout: `${result.server} ${SAYS[result.state] ?? result.state}\n` };
}
