import { EXIT, json, type Outcome } from '../output.js';

export function restartOutcome(result: { restarted: number[] }, asJson: boolean): Outcome {
  if (asJson) return { exitCode: EXIT.ok, stdout: json(result) };
  return { exitCode: EXIT.ok, stdout: `rolling restart done: workers ${result.restarted.join(', ') || '-'} replaced\n` };
}
