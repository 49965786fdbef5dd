import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { BackendTls, FrontendTls, ResolvedConfig, TlsCertificate } from '@rustlb/core';
import { type ConfigProblem, formatPath, type PathSegment, quote } from './problems.js';
import type { RawConfig } from './raw.js';

/**
 * The certificate, key and CA files a configuration refers to, read by the primary (at
 * start, `--validate` and every reload; workers never read the disk) and checked: each
 * problem is located at the key that names the file, as every other configuration error.
 * Reading is separate from checking so that the same checks run after a synchronous read
 * (`validateConfigText`) and an asynchronous one (loading a file, reloads).
 */

/** A PEM file larger than this is refused unread (a chain of a few certificates is a few KiB). */
export const MAX_PEM_BYTES = 1 << 20;

/** What reading one file gave: its text and mode, or why it could not be read. */
export type FileRead = { readonly ok: true; readonly text: string; readonly mode: number } | { readonly ok: false; readonly why: string };

export type FileReads = ReadonlyMap<string, FileRead>;

type LineOf = (p: readonly PathSegment[], key?: boolean) => number | null;

/** A relative path names a file in the configuration file's directory. */
export function tlsFilePath(file: string, configFile: string | null): string {
  return configFile === null ? resolve(file) : resolve(dirname(resolve(configFile)), file);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Every file the configuration refers to (absolute paths, each once, in file order). */
export function tlsFiles(raw: RawConfig, configFile: string | null): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    const s = str(v);
    if (s !== null) out.add(tlsFilePath(s, configFile));
  };
  for (const f of Array.isArray(raw.frontends) ? raw.frontends : []) {
    const tls = isObject(f) ? f.tls : undefined;
    if (!isObject(tls) || !Array.isArray(tls.certificates)) continue;
    for (const c of tls.certificates) {
      if (!isObject(c)) continue;
      add(c.cert);
      add(c.key);
    }
  }
  for (const b of Array.isArray(raw.backends) ? raw.backends : []) {
    const tls = isObject(b) ? b.tls : undefined;
    if (!isObject(tls) || tls.enabled === false) continue;
    add(tls.ca);
    add(tls.cert);
    add(tls.key);
  }
  return [...out];
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return code ?? String((err as Error).message ?? err);
  }
}

// Non-blocking open: a FIFO named by mistake must not hang validation (it is then refused as not a file).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function notAFile(isDirectory: boolean): FileRead {
  return { ok: false, why: isDirectory ? 'is a directory' : 'is not a regular file' };
}

function decode(buffer: Buffer, length: number, mode: number): FileRead {
  if (length > MAX_PEM_BYTES) return { ok: false, why: 'is larger than 1 MiB: not a certificate or key file' };
  return { ok: true, text: buffer.toString('utf8', 0, length), mode };
}

export function readTlsFilesSync(files: readonly string[]): FileReads {
  const out = new Map<string, FileRead>();
  for (const file of files) {
    let fd: number | null = null;
    try {
      fd = openSync(file, OPEN_FLAGS);
      const st = fstatSync(fd);
      if (!st.isFile()) {
        out.set(file, notAFile(st.isDirectory()));
        continue;
      }
      const buffer = Buffer.alloc(Math.min(st.size, MAX_PEM_BYTES) + 1);
      let length = 0;
      while (length < buffer.length) {
        const n = readSync(fd, buffer, length, buffer.length - length, null);
        if (n === 0) break;
        length += n;
      }
      out.set(file, decode(buffer, length, st.mode));
    } catch (err) {
      out.set(file, { ok: false, why: why(err) });
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }
  return out;
}

export async function readTlsFiles(files: readonly string[]): Promise<FileReads> {
  const out = new Map<string, FileRead>();
  await Promise.all(
    files.map(async (file) => {
      let handle: Awaited<ReturnType<typeof open>> | null = null;
      try {
        handle = await open(file, OPEN_FLAGS);
        const st = await handle.stat();
        if (!st.isFile()) {
          out.set(file, notAFile(st.isDirectory()));
          return;
        }
        const buffer = Buffer.alloc(Math.min(st.size, MAX_PEM_BYTES) + 1);
        let length = 0;
        while (length < buffer.length) {
          const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
          if (bytesRead === 0) break;
          length += bytesRead;
        }
        out.set(file, decode(buffer, length, st.mode));
      } catch (err) {
        out.set(file, { ok: false, why: why(err) });
      } finally {
        await handle?.close();
      }
    }),
  );
  return new Map(files.map((f) => [f, out.get(f) as FileRead]));
}

/**
 * One digest of everything read (contents and read failures, by file name): a reload whose
 * configuration text is unchanged still applies when a certificate or key changed.
 */
export function filesDigest(reads: FileReads): string {
  const h = createHash('sha256');
  for (const file of [...reads.keys()].sort()) {
    const r = reads.get(file) as FileRead;
    h.update(`${file}\0${r.ok ? `ok\0${r.text}` : `error\0${r.why}`}\0`);
  }
  return h.digest('hex');
}

/** The certificate, key and CA files a configuration names (absolute paths): what is watched beside the configuration file. */
export function configFiles(config: ResolvedConfig): string[] {
  const files = new Set<string>();
  const add = (file: string | null) => {
    if (file !== null) files.add(file);
  };
  for (const f of config.frontends) {
    for (const c of f.tls?.certificates ?? []) {
      add(c.certFile);
      add(c.keyFile);
    }
  }
  for (const b of config.backends) {
    add(b.tls?.caFile ?? null);
    add(b.tls?.certFile ?? null);
    add(b.tls?.keyFile ?? null);
  }
  return [...files];
}

export interface TlsCheck {
  readonly errors: ConfigProblem[];
  readonly warnings: ConfigProblem[];
  /** By frontend index: the resolved TLS settings of each frontend with a valid `tls` block. */
  readonly frontends: ReadonlyMap<number, FrontendTls>;
  /** By backend index: the resolved TLS settings of each backend with `tls` enabled. */
  readonly backends: ReadonlyMap<number, BackendTls>;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BEGIN = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----/;
const KEY_BLOCK = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/** PEM blocks as one text: only what was asked for goes to the workers (no key riding along in a certificate file). */
const pemText = (blocks: readonly string[]) => `${blocks.join('\n')}\n`;

const date = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The DNS names a certificate covers: its subjectAltName DNS entries, else its subject CN; lower-cased. */
export function certificateNames(x509: X509Certificate): string[] {
  const names: string[] = [];
  for (const m of (x509.subjectAltName ?? '').matchAll(/(?:^|,\s*)DNS:("?)([^,"]+)\1/g)) names.push((m[2] as string).trim().toLowerCase());
  if (names.length > 0) return [...new Set(names)];
  for (const line of x509.subject.split('\n')) if (line.startsWith('CN=')) names.push(line.slice(3).trim().toLowerCase());
  return names.filter((n) => n !== '');
}

interface ParsedCert {
  readonly pem: string;
  readonly leaf: X509Certificate;
}

/**
 * Runs every check on the files read. `raw` must have passed the schema (its shape is
 * trusted). `now` is the time certificates' validity is compared with.
 */
export function checkTls(raw: RawConfig, lineOf: LineOf, configFile: string | null, reads: FileReads, now = Date.now()): TlsCheck {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const error = (segs: readonly PathSegment[], message: string) => errors.push({ path: formatPath(segs), line: lineOf(segs), message });
  const warn = (segs: readonly PathSegment[], message: string) => warnings.push({ path: formatPath(segs), line: lineOf(segs), message });

  /** The file's text, or null after reporting why it cannot be used. */
  const text = (segs: readonly PathSegment[], file: string): { text: string; mode: number; abs: string } | null => {
    const abs = tlsFilePath(file, configFile);
    const r = reads.get(abs);
    if (r === undefined) {
      error(segs, `cannot read ${quote(file, 160)}: it was not read`);
      return null;
    }
    if (!r.ok) {
      error(segs, `cannot read ${quote(file, 160)}${abs === file ? '' : ` (${abs})`}: ${r.why}`);
      return null;
    }
    return { text: r.text, mode: r.mode, abs };
  };

  const validity = (segs: readonly PathSegment[], what: string, x509: X509Certificate) => {
    const from = Date.parse(x509.validFrom);
    const to = Date.parse(x509.validTo);
    if (Number.isFinite(to) && to < now) warn(segs, `${what} expired on ${date(to)}: clients refuse it`);
    else if (Number.isFinite(from) && from > now) warn(segs, `${what} is not valid yet: valid from ${date(from)}`);
  };

  /** The certificates of a PEM file, or null after reporting why there are none. */
  const certificates = (segs: readonly PathSegment[], file: string, body: string, kind: 'certificate' | 'CA'): ParsedCert[] | null => {
    const blocks = body.match(CERT_BLOCK) ?? [];
    if (blocks.length === 0) {
      const hint = KEY_BEGIN.test(body) ? ' (it holds a private key: are cert and key swapped?)' : '';
      const need = kind === 'CA' ? 'a CA file lists the CA certificates as PEM' : 'it must hold the certificate as PEM';
      error(segs, `${quote(file, 160)} holds no PEM certificate (-----BEGIN CERTIFICATE-----): ${need}${hint}`);
      return null;
    }
    const out: ParsedCert[] = [];
    for (const [n, pem] of blocks.entries()) {
      try {
        out.push({ pem, leaf: new X509Certificate(pem) });
      } catch {
        error(segs, `${quote(file, 160)}: certificate ${n + 1} of ${blocks.length} is not a valid PEM certificate`);
        return null;
      }
    }
    return out;
  };

  const privateKey = (segs: readonly PathSegment[], file: string, body: string): { key: KeyObject; pem: string } | null => {
    const begin = KEY_BEGIN.exec(body);
    if (begin === null) {
      const hint = body.includes('-----BEGIN CERTIFICATE-----') ? ' (it holds a certificate: are cert and key swapped?)' : '';
      error(segs, `${quote(file, 160)} holds no PEM private key (-----BEGIN PRIVATE KEY-----)${hint}`);
      return null;
    }
    if (begin[1] === 'ENCRYPTED ' || /Proc-Type: 4,ENCRYPTED/.test(body)) {
      error(segs, `${quote(file, 160)} holds an encrypted private key: rustlb needs it unencrypted (openssl pkey -in FILE -out FILE.plain)`);
      return null;
    }
    const block = KEY_BLOCK.exec(body)?.[0];
    if (block === undefined) {
      error(segs, `${quote(file, 160)} holds no complete PEM private key (no -----END line)`);
      return null;
    }
    try {
      return { key: createPrivateKey(block), pem: `${block}\n` };
    } catch {
      // The library's message is not shown: nothing of a key goes into a message.
      error(segs, `${quote(file, 160)} holds no valid PEM private key`);
      return null;
    }
  };

  const keyMode = (segs: readonly PathSegment[], file: string, mode: number) => {
    if ((mode & 0o077) !== 0) {
      const m = (mode & 0o777).toString(8).padStart(4, '0');
      warn(segs, `${quote(file, 160)} may be read by its group or others (mode ${m}): a private key should be readable by rustlb's user only (chmod 600)`);
    }
  };

  /** A certificate and its key, checked together. */
  const pair = (certSegs: PathSegment[], keySegs: PathSegment[], certFile: string, keyFile: string) => {
    const c = text(certSegs, certFile);
    const k = text(keySegs, keyFile);
    const chain = c === null ? null : certificates(certSegs, certFile, c.text, 'certificate');
    const key = k === null ? null : privateKey(keySegs, keyFile, k.text);
    if (c !== null && k !== null && c.abs !== k.abs && KEY_BEGIN.test(c.text))
      warn(
        certSegs,
        `${quote(certFile, 160)} holds a private key besides the certificates: only its certificates are used; keep the key in its own file, readable by rustlb only`,
      );
    if (k !== null) keyMode(keySegs, keyFile, k.mode);
    if (chain === null || key === null || c === null || k === null) return null;
    const leaf = (chain[0] as ParsedCert).leaf;
    let matches = false;
    try {
      matches = leaf.checkPrivateKey(key.key);
    } catch {
      matches = false;
    }
    if (!matches) {
      error(
        keySegs,
        `${quote(keyFile, 160)} is not the private key of the certificate in ${quote(certFile, 160)} (their public keys differ): a wrong file, or a renewed certificate without its new key`,
      );
      return null;
    }
    const certPem = pemText(chain.map((x) => x.pem));
    try {
      createSecureContext({ cert: certPem, key: key.pem });
    } catch (err) {
      error(certSegs, `${quote(certFile, 160)} cannot be used with its key: ${String((err as Error).message).split('\n')[0]}`);
      return null;
    }
    validity(certSegs, `the certificate in ${quote(certFile, 160)}`, leaf);
    return { leaf, certPem, keyPem: key.pem, certAbs: c.abs, keyAbs: k.abs };
  };

  const frontends = new Map<number, FrontendTls>();
  raw.frontends.forEach((f, i) => {
    const tls = f.tls;
    if (tls === undefined) return;
    const base: PathSegment[] = ['frontends', i, 'tls'];
    let ok = true;
    if (tls.ciphers !== undefined) {
      try {
        createSecureContext({ ciphers: tls.ciphers });
      } catch {
        error([...base, 'ciphers'], `${quote(tls.ciphers)} matches no cipher OpenSSL knows (see openssl ciphers -v)`);
        ok = false;
      }
    }
    const certs: TlsCertificate[] = [];
    const seen = new Map<string, number>();
    tls.certificates.forEach((c, j) => {
      const at: PathSegment[] = [...base, 'certificates', j];
      const p = pair([...at, 'cert'], [...at, 'key'], c.cert, c.key);
      if (p === null) {
        ok = false;
        return;
      }
      const names = certificateNames(p.leaf);
      if (names.length === 0 && j > 0)
        warn([...at, 'cert'], `the certificate in ${quote(c.cert)} names no DNS name (no subjectAltName DNS entry, no CN): SNI never chooses it`);
      for (const name of names) {
        const first = seen.get(name);
        if (first !== undefined) warn([...at, 'cert'], `${quote(name)} is also covered by certificates[${first}], which SNI chooses first`);
        else seen.set(name, j);
      }
      certs.push({
        certFile: p.certAbs,
        keyFile: p.keyAbs,
        certPem: p.certPem,
        keyPem: p.keyPem,
        names,
        notAfterMs: Date.parse(p.leaf.validTo),
        fingerprint: p.leaf.fingerprint256,
      });
    });
    if (!ok) return;
    frontends.set(i, {
      certificates: certs,
      minVersion: tls.min_version,
      ciphers: tls.ciphers ?? null,
      alpn: tls.alpn ?? (f.protocol === 'http' ? ['http/1.1'] : []),
    });
  });

  const backends = new Map<number, BackendTls>();
  raw.backends.forEach((b, i) => {
    const tls = b.tls;
    if (tls === undefined || !tls.enabled) return;
    const base: PathSegment[] = ['backends', i, 'tls'];
    let ok = true;
    let caPem: string | null = null;
    let caFile: string | null = null;
    if (tls.ca !== undefined) {
      const ca = text([...base, 'ca'], tls.ca);
      const certs = ca === null ? null : certificates([...base, 'ca'], tls.ca, ca.text, 'CA');
      if (ca === null || certs === null) ok = false;
      else {
        caPem = pemText(certs.map((x) => x.pem));
        caFile = ca.abs;
        if (certs.every((x) => Date.parse(x.leaf.validTo) < now))
          validity([...base, 'ca'], `every CA certificate in ${quote(tls.ca, 160)}`, (certs[0] as ParsedCert).leaf);
        if (!tls.verify) warn([...base, 'ca'], 'is not used: verify is false, so any server certificate is accepted');
      }
    }
    let client: ReturnType<typeof pair> = null;
    if (tls.cert !== undefined && tls.key === undefined) {
      error([...base, 'cert'], 'needs key too: a client certificate is sent with its private key');
      ok = false;
    } else if (tls.key !== undefined && tls.cert === undefined) {
      error([...base, 'key'], 'needs cert too: a private key is only used with its client certificate');
      ok = false;
    } else if (tls.cert !== undefined && tls.key !== undefined) {
      client = pair([...base, 'cert'], [...base, 'key'], tls.cert, tls.key);
      if (client === null) ok = false;
    }
    if (!ok) return;
    backends.set(i, {
      verify: tls.verify,
      caPem,
      caFile,
      servername: tls.servername ?? null,
      certPem: client?.certPem ?? null,
      keyPem: client?.keyPem ?? null,
      certFile: client?.certAbs ?? null,
      keyFile: client?.keyAbs ?? null,
    });
  });
  return { errors, warnings, frontends, backends };
}
