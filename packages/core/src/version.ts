import { readFileSync } from 'node:fs';

/**
 * The product version. Every workspace package carries the root's version (a test keeps
 * them equal), so reading this package's own manifest works both in the repository and
 * in an installed tarball, where the packages sit under node_modules.
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
