// npm install runs this (postinstall): it runs PGlite's initdb once and keeps the initialised
// cluster next to the installed packages, in two forms:
//   node_modules/.cache/oauth-server/pglite-<PGlite version>/         a data directory, copied
//                                                                     into an empty DATA_DIR
//   node_modules/.cache/oauth-server/pglite-<PGlite version>.tar.gz   its dump, loaded for memory://
// A first start then skips initdb, which is most of a first start (README, "Start-up time").
// src/db/pglite-template.ts reads both. It never fails an install: without them a first start
// simply runs initdb itself.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

try {
  const { PGlite } = await import('@electric-sql/pglite');
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const marker = `${path.sep}node_modules${path.sep}`;
  const nodeModules = entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
  const { version } = JSON.parse(readFileSync(path.join(nodeModules, '@electric-sql', 'pglite', 'package.json'), 'utf8'));
  const base = path.join(nodeModules, '.cache', 'oauth-server', `pglite-${version}`);
  // built under other names and renamed, so a start never reads half a template
  const building = `${base}.${process.pid}`;
  mkdirSync(path.dirname(base), { recursive: true });
  const pg = await PGlite.create({ dataDir: building });
  const dump = Buffer.from(await (await pg.dumpDataDir('gzip')).arrayBuffer());
  await pg.close();
  rmSync(base, { recursive: true, force: true });
  renameSync(building, base);
  writeFileSync(`${building}.tar.gz`, dump);
  renameSync(`${building}.tar.gz`, `${base}.tar.gz`);
  console.log(`oauth-server: prepared the embedded database template (${path.relative(process.cwd(), base)})`);
} catch (e) {
  console.log(`oauth-server: no embedded database template (${e instanceof Error ? e.message : e}); a first start will run initdb`);
}
