import type { ReloadResult } from '@rustlb/core';
import { EXIT, json, type Outcome } from '../output.js';

export function reloadOutcome(r: ReloadResult, asJson: boolean): Outcome {
  const exitCode = r.accepted && r.pending.length === 0 ? EXIT.ok : EXIT.refused;
  if (asJson) return { exitCode, stdout: json(r) };
  const lines: string[] = [];
  if (!r.accepted) {
    lines.push(`reload rejected: the configuration in force (generation ${r.generation}) is unchanged`);
    for (const e of r.errors) lines.push(`  error: ${e}`);
  } else {
    lines.push(`reload accepted: generation ${r.generation}`);
    lines.push(r.changes.length === 0 ? '  no changes' : r.changes.map((c) => `  ${c}`).join('\n'));
    if (r.needsRestart.length > 0) lines.push(`  needs a restart to take effect: ${r.needsRestart.join(', ')}`);
    lines.push(`  applied by workers ${r.acknowledged.join(', ') || '-'}`);
    if (r.pending.length > 0) lines.push(`  NOT applied in time by workers ${r.pending.join(', ')}`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return { exitCode, stdout: `${lines.join('\n')}\n` };
}
