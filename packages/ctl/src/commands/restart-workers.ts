import { EXIT, json, type Outcome } from '../output.js';

export interface RestartAnswer {
  readonly restarted: readonly number[];
  readonly replaced?: readonly { readonly slot: number; readonly oldPid: number; readonly newPid: number }[];
}

export function restartOutcome(result: RestartAnswer, asJson: boolean): Outcome {
  if (asJson) return { exitCode: EXIT.ok, stdout: json(result) };
  const lines = (result.replaced ?? []).map((r) => `  worker ${r.slot}: pid ${r.oldPid} -> ${r.newPid} (old one draining)`);
  return { exitCode: EXIT.ok, stdout: `rolling restart done: ${result.restarted.length} worker(s) replaced\n${lines.map((l) => `${l}\n`).join('')}` };
}
