import { formatProblem, loadConfigFile, summarize } from '@rustlb/config';
import { EXIT, json, type Outcome } from '../output.js';

/** Validates a file locally: no daemon needed. */
export async function validateOutcome(file: string, asJson: boolean): Promise<Outcome> {
  const r = await loadConfigFile(file);
  const warnings = r.warnings.map(formatProblem);
  if (asJson) {
    return { exitCode: r.ok ? EXIT.ok : EXIT.refused, stdout: json({ valid: r.ok, errors: r.ok ? [] : r.errors.map(formatProblem), warnings }) };
  }
  if (!r.ok) {
    return {
      exitCode: EXIT.refused,
      stdout: '',
      stderr: `${file} is invalid:\n${r.errors.map((e) => `  ${formatProblem(e)}\n`).join('')}${warnings.map((w) => `  warning: ${w}\n`).join('')}`,
    };
  }
  return { exitCode: EXIT.ok, stdout: `${file} is valid\n${summarize(r.config)}\n${warnings.map((w) => `warning: ${w}\n`).join('')}` };
}
