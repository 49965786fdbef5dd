import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const DEFAULT_CONFIG = '/etc/rustlb/config.yaml';

/**
 * The control socket of the daemon that runs with `configFile`: its
 * `global.admin.socket`, else the default derived from the file's path. The file need
 * not be valid (a broken file is exactly when `rustlb-ctl reload` must still reach the
 * daemon to report the errors).
 */
export async function socketFromConfig(configFile: string): Promise<string> {
  const text = readFileSync(configFile, 'utf8');
  // Loaded only here: most invocations name the socket and should start fast.
  const [{ parse }, { defaultAdminSocket, socketPath }] = await Promise.all([import('yaml'), import('@rustlb/config')]);
  let socket: unknown;
  try {
    socket = (parse(text) as { global?: { admin?: { socket?: unknown } } } | null)?.global?.admin?.socket;
  } catch {
    socket = undefined;
  }
  return typeof socket === 'string' && socket !== '' ? socketPath(socket, configFile) : defaultAdminSocket(configFile);
}

/** --socket, else -c FILE, else RUSTLB_SOCKET, else the default config file's socket. */
export async function findSocket(options: { socket?: string | undefined; config?: string | undefined }): Promise<string | null> {
  if (options.socket !== undefined) return resolve(options.socket);
  if (options.config !== undefined) return socketFromConfig(options.config);
  if (process.env.RUSTLB_SOCKET !== undefined && process.env.RUSTLB_SOCKET !== '') return resolve(process.env.RUSTLB_SOCKET);
  if (existsSync(DEFAULT_CONFIG)) return socketFromConfig(DEFAULT_CONFIG);
  return null;
}
