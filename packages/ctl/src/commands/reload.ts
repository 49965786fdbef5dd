import type { ReloadResult } from '@rustlb/core';
import { EXIT, json, type Outcome } from '../output.js';

/**
 * A rejected reload, or one some worker did not apply in time, exits 1. The rejection
 * and its errors go to stderr, so `rustlb-ctl reload >/dev/null` still shows them.
 */
export function reloadOutcome(r: ReloadResult, asJson: boolean): Outcome {
  const exitCode = r.accepted && r.pending.length === 0 ? EXIT.ok : EXIT.refused;
  if (asJson) return { exitCode, stdout: json(r) };
  const lines: string[] = [];
  if (!r.accepted) {
    lines.push(`reload rejected: the configuration in force (generation ${r.generation}) is unchanged`);
    for (const e of r.errors) lines.push(`  error: ${e}`);
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
    return { exitCode, stdout: '', stderr: `${lines.join('\n')}\n` };
  }
  lines.push(`reload accepted: generation ${r.generation}`);
  lines.push(r.changes.length === 0 ? '  no changes' : r.changes.map((c) => `  ${c}`).join('\n'));
  if (r.needsRestart.length > 0) lines.push(`  needs a restart to take effect (kept as before): ${r.needsRestart.join(', ')}`);
  lines.push(`  applied by workers ${r.acknowledged.join(', ') || '-'}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  if (r.pending.length === 0) return { exitCode, stdout: `${lines.join('\n')}\n` };
  return {
    exitCode,
    stdout: `${lines.join('\n')}\n`,
    stderr: `rustlb-ctl: workers ${r.pending.join(', ')} did not apply generation ${r.generation} in time\n`,
  };
}
