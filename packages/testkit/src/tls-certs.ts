import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test certificates made with the `openssl` command (run by execFile, no shell) in a
 * temporary directory: a CA, server certificates it signs (SAN DNS names and IPs, any
 * validity window, expired ones included), client certificates for mutual TLS. Keys are
 * EC P-256 (fast to make) and written with mode 0600, as an operator would.
 */

/** A certificate and its key: their files and their PEM text. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServerCertOptions {
  /** SAN DNS names (the first is also the CN). */
  readonly dns?: readonly string[];
  /** SAN IP addresses. */
  readonly ips?: readonly string[];
  /** Only a subject CN, no subjectAltName at all. */
  readonly cnOnly?: string;
  /** Validity window; default: from a day ago for `days` (default 365) days. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly days?: number;
  /** File name stem in the directory (default: the first name, made unique). */
  readonly name?: string;
}

const DAY_MS = 86_400_000;

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 20_000 }, (err, _stdout, stderr) => {
      if (err !== null) reject(new Error(`openssl ${args[0]} failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

/** `YYYYMMDDHHMMSSZ`, as `openssl ca -startdate` reads it. */
const asn1Time = (d: Date) =>
  `${d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, '')}Z`;

export class TestPki {
  readonly dir: string;
  readonly ca: CertFiles;
  #serial = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, ca: CertFiles) {
    this.dir = dir;
    this.ca = ca;
  }

  /** A new CA in a new temporary directory (or in `dir`). */
  static async create(dir?: string): Promise<TestPki> {
    const root = dir ?? mkdtempSync(join(tmpdir(), 'rustlb-pki-'));
    mkdirSync(join(root, 'ca-db'), { recursive: true });
    writeFileSync(join(root, 'ca-db', 'index.txt'), '');
    writeFileSync(join(root, 'ca-db', 'serial'), '1000\n');
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-subj',
        '/CN=rustlb test CA',
        '-days',
        '3650',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      root,
    );
    chmodSync(join(root, 'ca.key'), 0o600);
    writeFileSync(
      join(root, 'ca-db', 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = testca',
        '[ testca ]',
        `database = ${join(root, 'ca-db', 'index.txt')}`,
        `new_certs_dir = ${join(root, 'ca-db')}`,
        `serial = ${join(root, 'ca-db', 'serial')}`,
        `certificate = ${join(root, 'ca.crt')}`,
        `private_key = ${join(root, 'ca.key')}`,
        'default_md = sha256',
        'policy = policy_any',
        'unique_subject = no',
        'email_in_dn = no',
        '[ policy_any ]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    return new TestPki(root, TestPki.#read(root, 'ca'));
  }

  static #read(dir: string, stem: string): CertFiles {
    const cert = join(dir, `${stem}.crt`);
    const key = join(dir, `${stem}.key`);
    return { cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  }

  /** A server certificate signed by the CA. */
  server(options: ServerCertOptions = {}): Promise<CertFiles> {
    const dns = options.dns ?? (options.cnOnly === undefined ? ['localhost'] : []);
    const san = [...dns.map((d) => `DNS:${d}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)];
    const cn = options.cnOnly ?? dns[0] ?? options.ips?.[0] ?? 'server';
    return this.#issue(options.name ?? cn, cn, san, 'serverAuth', options);
  }

  /** A server certificate whose validity ended a day ago. */
  expired(dns: readonly string[] = ['localhost'], name?: string): Promise<CertFiles> {
    const now = Date.now();
    return this.server({ dns, notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS), name: name ?? `expired-${dns[0] ?? 'x'}` });
  }

  /** A client certificate for mutual TLS. */
  client(cn = 'rustlb-client'): Promise<CertFiles> {
    return this.#issue(cn, cn, [], 'clientAuth', {});
  }

  #issue(stem: string, cn: string, san: readonly string[], usage: string, options: ServerCertOptions): Promise<CertFiles> {
    const run = async (): Promise<CertFiles> => {
      const unique = `${stem.replace(/[^A-Za-z0-9.-]/g, '_')}-${++this.#serial}`;
      const now = Date.now();
      const notBefore = options.notBefore ?? new Date(now - DAY_MS);
      const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 365) * DAY_MS);
      const ext = join(this.dir, 'ca-db', `${unique}.ext`);
      writeFileSync(
        ext,
        [
          '[ v3 ]',
          'basicConstraints = CA:FALSE',
          'keyUsage = critical,digitalSignature,keyEncipherment',
          `extendedKeyUsage = ${usage}`,
          ...(san.length > 0 ? [`subjectAltName = ${san.join(',')}`] : []),
          '',
        ].join('\n'),
      );
      const csr = join(this.dir, 'ca-db', `${unique}.csr`);
      await openssl(
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${unique}.key`, '-out', csr, '-subj', `/CN=${cn}`],
        this.dir,
      );
      chmodSync(join(this.dir, `${unique}.key`), 0o600);
      await openssl(
        [
          'ca',
          '-batch',
          '-notext',
          '-config',
          join(this.dir, 'ca-db', 'ca.cnf'),
          '-in',
          csr,
          '-out',
          `${unique}.crt`,
          '-startdate',
          asn1Time(notBefore),
          '-enddate',
          asn1Time(notAfter),
          '-extfile',
          ext,
          '-extensions',
          'v3',
        ],
        this.dir,
      );
      return TestPki.#read(this.dir, unique);
    };
    // `openssl ca` keeps its database in files: one signing at a time.
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Removes the directory and everything made in it. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
