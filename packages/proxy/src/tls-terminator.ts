import { createSecureContext, type SecureContext } from 'node:tls';
import type { FrontendTls } from '@rustlb/core';

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

/**
 * The TLS side of one frontend in one configuration generation: a secure context per
 * certificate and the SNI table over them (exact names first, then the longest wildcard).
 * Built once per generation and swapped in: handshakes already started keep the
 * terminator they started with, the next ones use the new certificates.
 */
export class TlsTerminator {
  readonly settings: FrontendTls;
  readonly defaultContext: SecureContext;
  readonly alpn: string[] | undefined;
  readonly #exact = new Map<string, SecureContext>();
  /** `.example.com` → context, for `*.example.com` (one label, as browsers match). */
  readonly #wildcard = new Map<string, SecureContext>();
  readonly sni: SniCallback;

  constructor(settings: FrontendTls) {
    this.settings = settings;
    let first: SecureContext | null = null;
    for (const c of settings.certificates) {
      const ctx = createSecureContext({
        cert: c.certPem,
        key: c.keyPem,
        minVersion: settings.minVersion,
        ...(settings.ciphers === null ? {} : { ciphers: settings.ciphers }),
      });
      first ??= ctx;
      for (const name of c.names) {
        if (name.startsWith('*.')) {
          if (!this.#wildcard.has(name.slice(1))) this.#wildcard.set(name.slice(1), ctx);
        } else if (!this.#exact.has(name)) this.#exact.set(name, ctx);
      }
    }
    if (first === null) throw new Error('a TLS frontend needs a certificate');
    this.defaultContext = first;
    this.alpn = settings.alpn.length === 0 ? undefined : [...settings.alpn];
    this.sni = (servername, cb) => cb(null, this.contextFor(servername));
  }

  /** The certificate for a client's SNI name; the first one when none matches. */
  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.#wildcard.get(name.slice(dot));
      if (wild !== undefined) return wild;
    }
    return this.defaultContext;
  }

  /** Same certificates and settings: a reload that changed nothing here keeps the contexts. */
  sameAs(settings: FrontendTls): boolean {
    const a = this.settings;
    return (
      a.minVersion === settings.minVersion &&
      a.ciphers === settings.ciphers &&
      a.alpn.join(',') === settings.alpn.join(',') &&
      a.certificates.length === settings.certificates.length &&
      a.certificates.every((c, i) => c.fingerprint === settings.certificates[i]?.fingerprint && c.keyPem === settings.certificates[i]?.keyPem)
    );
  }

  /** The terminator for a new generation: this one when nothing changed. */
  static next(settings: FrontendTls | null, previous: TlsTerminator | null): TlsTerminator | null {
    if (settings === null) return null;
    if (previous?.sameAs(settings)) return previous;
    return new TlsTerminator(settings);
  }
}
