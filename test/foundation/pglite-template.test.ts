// A first start on an empty DATA_DIR unpacks the cluster `npm install` prepared instead of
// running initdb; anything else about the database is the same as without it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/db/index.js';
import { templateBase } from '../../src/db/pglite-template.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'pglite-template-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function open(dataDir: string, template?: string) {
  let created: string | undefined;
  const db = await openDatabase({ dataDir, ...(template ? { template } : {}), onOpen: (c) => (created = c) });
  return { db, created };
}

describe('the install-time PGlite template', () => {
  beforeAll(() => {
    // what npm install runs (postinstall)
    const r = spawnSync(process.execPath, ['scripts/pglite-template.mjs'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('prepared the embedded database template');
  }, 60_000);

  it('is written where the server looks for it, keyed by the PGlite version: a data directory and its dump', () => {
    const base = templateBase();
    expect(base).toMatch(/node_modules[/\\]\.cache[/\\]oauth-server[/\\]pglite-\d+\.\d+\.\d+$/);
    expect(existsSync(path.join(base, 'PG_VERSION'))).toBe(true);
    expect(statSync(`${base}.tar.gz`).size).toBeGreaterThan(100_000);
  });

  it('becomes a first start on an empty DATA_DIR, and that database is an ordinary one after it', async () => {
    const dir = path.join(scratch, 'first');
    const first = await open(dir);
    expect(first.created).toBe('template');
    await migrate(first.db);
    await first.db.insertInto('settings').values({ name: 'probe', value: 'kept' }).execute();
    await first.db.destroy();
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(true);

    const again = await open(dir);
    expect(again.created).toBe('existing');
    expect(await again.db.selectFrom('settings').select('value').where('name', '=', 'probe').executeTakeFirst()).toEqual({ value: 'kept' });
    await again.db.destroy();
  }, 60_000);

  it('is used for memory:// too', async () => {
    const { db, created } = await open('memory://');
    expect(created).toBe('template');
    await db.destroy();
  }, 60_000);

  it('falls back to initdb when the template is unusable, leaving a working database', async () => {
    // a data directory that only looks like one, and a dump that is not a tarball
    const bad = path.join(scratch, 'bad');
    mkdirSync(path.join(bad, 'global'), { recursive: true });
    writeFileSync(path.join(bad, 'PG_VERSION'), '17\n');
    writeFileSync(path.join(bad, 'global', 'pg_control'), 'garbage');
    writeFileSync(`${bad}.tar.gz`, 'not a tarball');
    for (const dataDir of [path.join(scratch, 'fallback'), 'memory://']) {
      const { db, created } = await open(dataDir, bad);
      expect(created, dataDir).toBe('initdb');
      await migrate(db);
      expect(await db.selectFrom('settings').selectAll().execute()).toEqual([]);
      await db.destroy();
    }
    // the bad copy was cleared before initdb: the control file is PostgreSQL's, not the copied one
    expect(statSync(path.join(scratch, 'fallback', 'global', 'pg_control')).size).toBe(8192);
  }, 120_000);

  it('runs initdb when there is no template', async () => {
    const { db, created } = await open(path.join(scratch, 'none'), path.join(scratch, 'missing'));
    expect(created).toBe('initdb');
    await db.destroy();
  }, 60_000);
});
