import type { HeaderRule } from '@rustlb/core';

/** The values a header template may refer to. */
export interface TemplateVars {
  clientIp: string;
  clientPort: string;
  backendName: string;
  backendAddr: string;
}

type Part = string | keyof TemplateVars;

const VARIABLES: Readonly<Record<string, keyof TemplateVars>> = {
  client_ip: 'clientIp',
  client_port: 'clientPort',
  backend_name: 'backendName',
  backend_addr: 'backendAddr',
};
const VARIABLE = /\$(client_ip|client_port|backend_name|backend_addr)/g;

/** A header rule compiled once at config time: a constant, or literal and variable parts. */
export class CompiledHeader {
  readonly name: string;
  readonly lower: string;
  readonly #constant: string | null;
  readonly #parts: readonly Part[];
  readonly #vars: readonly boolean[];

  constructor(rule: HeaderRule) {
    this.name = rule.name;
    this.lower = rule.name.toLowerCase();
    const parts: Part[] = [];
    const vars: boolean[] = [];
    let at = 0;
    for (const m of rule.value.matchAll(VARIABLE)) {
      if (m.index > at) {
        parts.push(rule.value.slice(at, m.index));
        vars.push(false);
      }
      parts.push(VARIABLES[m[1] as string] as keyof TemplateVars);
      vars.push(true);
      at = m.index + m[0].length;
    }
    if (at < rule.value.length) {
      parts.push(rule.value.slice(at));
      vars.push(false);
    }
    this.#parts = parts;
    this.#vars = vars;
    this.#constant = vars.includes(true) ? null : rule.value;
  }

  render(values: TemplateVars): string {
    if (this.#constant !== null) return this.#constant;
    let out = '';
    for (let i = 0; i < this.#parts.length; i++) {
      const p = this.#parts[i] as Part;
      out += this.#vars[i] ? values[p as keyof TemplateVars] : p;
    }
    return out;
  }
}

export function compileHeaders(rules: readonly HeaderRule[]): CompiledHeader[] {
  return rules.map((r) => new CompiledHeader(r));
}
