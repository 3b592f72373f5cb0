// The initialised PGlite cluster that `npm install` prepares (scripts/pglite-template.mjs):
// a first start on an empty DATA_DIR unpacks it instead of running initdb, which costs most of
// a first start (README, "Start-up time"). Keyed by PGlite's version, since the files on disk
// belong to the PostgreSQL build inside it; a missing or unusable template means initdb.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCK_FILE } from './data-dir-lock.js';

/** node_modules/.cache/oauth-server/pglite-<version>.tar.gz, where the install script writes it */
export function templateFile(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const marker = `${path.sep}node_modules${path.sep}`;
  const nodeModules = entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
  const { version } = JSON.parse(readFileSync(path.join(nodeModules, '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  return path.join(nodeModules, '.cache', 'oauth-server', `pglite-${version}.tar.gz`);
}

export function readTemplate(file = templateFile()): Blob | undefined {
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    return undefined;
  }
}

/** A data directory PGlite would have to initialise: missing, or holding nothing but our lock. */
export function isEmptyDataDir(dir: string): boolean {
  if (!existsSync(dir)) return true;
  return readdirSync(dir).every((f) => f === LOCK_FILE);
}
