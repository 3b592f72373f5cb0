// The initialised PGlite cluster that `npm install` prepares (scripts/pglite-template.mjs), so
// that a first start skips initdb, which costs most of a first start (README, "Start-up time"):
// an empty DATA_DIR gets a copy of the template data directory (a copy of a cleanly shut down
// cluster, as with any PostgreSQL), memory:// loads its dump. Keyed by PGlite's version, since
// the files belong to the PostgreSQL build inside it; a missing or unusable template means initdb.
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCK_FILE } from './data-dir-lock.js';

/** node_modules/.cache/oauth-server/pglite-<version>, where the install script writes the template */
export function templateBase(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const marker = `${path.sep}node_modules${path.sep}`;
  const nodeModules = entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
  const { version } = JSON.parse(readFileSync(path.join(nodeModules, '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  return path.join(nodeModules, '.cache', 'oauth-server', `pglite-${version}`);
}

/** The template's dump, for an in-memory database. */
export function readTemplateDump(base = templateBase()): Blob | undefined {
  try {
    return new Blob([readFileSync(`${base}.tar.gz`)]);
  } catch {
    return undefined;
  }
}

/** Copies the template data directory into `dataDir`; false when there is none. */
export function copyTemplateDir(dataDir: string, base = templateBase()): boolean {
  if (!existsSync(path.join(base, 'PG_VERSION'))) return false;
  cpSync(base, dataDir, { recursive: true });
  return true;
}

/** A data directory PGlite would have to initialise: missing, or holding nothing but our lock. */
export function isEmptyDataDir(dir: string): boolean {
  if (!existsSync(dir)) return true;
  return readdirSync(dir).every((f) => f === LOCK_FILE);
}
