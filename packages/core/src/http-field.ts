/**
 * The byte rules of an HTTP/1.1 header field (RFC 9110 §5.1, §5.5), in one place for
 * the data plane (what it accepts and writes) and the configuration (what it lets an
 * operator configure). Strings here hold one byte per character (latin1), as the
 * codec reads and writes them: a character above U+00FF cannot be written as one byte.
 */

/** tchar of RFC 9110 §5.6.2, indexed by character code (0-127). */
const TCHAR: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") t[c.charCodeAt(0)] = 1;
  return t;
})();

/** A field name is a token: one or more tchar. */
export function isFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A byte a field value may hold: HTAB, SP, visible ASCII (VCHAR) or obs-text (0x80-0xFF); no other control character, no DEL. */
export function isFieldValueByte(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

/** Index of the first character of `value` that cannot be in a field value, or -1 when every one can. */
export function invalidFieldValueAt(value: string): number {
  for (let i = 0; i < value.length; i++) if (!isFieldValueByte(value.charCodeAt(i))) return i;
  return -1;
}

export function isFieldValue(value: string): boolean {
  return invalidFieldValueAt(value) < 0;
}

/**
 * Why `value` cannot be a field value, in words (`U+0100 at character 3 is above
 * U+00FF: …`), or null when it can.
 */
export function fieldValueProblem(value: string): string | null {
  const at = invalidFieldValueAt(value);
  if (at < 0) return null;
  const c = value.charCodeAt(at);
  const code = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  const which = `${code} at character ${at + 1}`;
  if (c === 0x0d || c === 0x0a) return `${which} is a line break: it would end the header line`;
  if (c === 0x00) return `${which} is NUL: no HTTP implementation accepts it in a header`;
  if (c < 0x20 || c === 0x7f)
    return `${which} is a control character: it is refused in a header (only tab, space, visible ASCII and bytes 0x80-0xFF are allowed)`;
  return `${which} is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF)`;
}

/**
 * Fields that frame a message or manage its connection (RFC 9110 §7.6.1, RFC 9112 §6):
 * the proxy writes them from the message itself, and a configured value would break every
 * message it is set on.
 */
export const FRAMING_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The variables a header value may use, with the value each stands for. */
export const HEADER_VARIABLES = ['client_ip', 'client_port', 'backend_name', 'backend_addr'] as const;
export type HeaderVariable = (typeof HEADER_VARIABLES)[number];

const VARIABLE = /\$(client_ip|client_port|backend_name|backend_addr)/g;

/** `template` with each known `$variable` replaced by `values[variable]` (the data plane's substitution). */
export function renderHeaderTemplate(template: string, values: Readonly<Record<HeaderVariable, string>>): string {
  return template.replace(VARIABLE, (_, name: HeaderVariable) => values[name]);
}

/** The known variables `template` uses. */
export function headerTemplateVariables(template: string): HeaderVariable[] {
  return [...template.matchAll(VARIABLE)].map((m) => m[1] as HeaderVariable);
}
