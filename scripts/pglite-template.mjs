// npm install runs this (postinstall): it runs PGlite's initdb once, in memory, and keeps the
// initialised cluster as a tarball next to the installed packages,
//   node_modules/.cache/oauth-server/pglite-<PGlite version>.tar.gz
// A first start on an empty DATA_DIR then unpacks it instead of running initdb, which is most
// of a first start (README, "Start-up time"). src/db/pglite-template.ts reads the same file.
// It never fails an install: without the tarball a first start simply runs initdb itself.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

try {
  const { PGlite } = await import('@electric-sql/pglite');
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const nodeModules = entry.slice(0, entry.lastIndexOf(`${path.sep}node_modules${path.sep}`) + '/node_modules'.length);
  const { version } = JSON.parse(readFileSync(path.join(nodeModules, '@electric-sql', 'pglite', 'package.json'), 'utf8'));
  const file = path.join(nodeModules, '.cache', 'oauth-server', `pglite-${version}.tar.gz`);
  const pg = await PGlite.create();
  const dump = Buffer.from(await (await pg.dumpDataDir('gzip')).arrayBuffer());
  await pg.close();
  mkdirSync(path.dirname(file), { recursive: true });
  // written under another name and renamed, so a start never reads half a file
  writeFileSync(`${file}.${process.pid}`, dump);
  renameSync(`${file}.${process.pid}`, file);
  console.log(`oauth-server: prepared the embedded database template (${path.relative(process.cwd(), file)})`);
} catch (e) {
  console.log(`oauth-server: no embedded database template (${e instanceof Error ? e.message : e}); a first start will run initdb`);
}
