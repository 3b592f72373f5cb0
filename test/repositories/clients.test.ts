// The registry file is the source of truth: sync creates, updates and disables clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSchema } from '../../src/config/clients.js';
import { sha256 } from '../../src/crypto/hash.js';
import type { Db } from '../../src/db/index.js';
import { ClientCache, ClientsRepository } from '../../src/repositories/clients.js';
import { freshDatabase } from '../support/harness.js';

let db: Db;
let drop: () => Promise<void>;
let repo: ClientsRepository;
beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
  repo = new ClientsRepository(db);
});
afterAll(async () => drop?.());

const SECRET_A = 'secret-a-0123456789-0123456789-0123456789';
const SECRET_B = 'secret-b-0123456789-0123456789-0123456789';
const service = (id: string, extra: Record<string, unknown> = {}) =>
  clientSchema.parse({ client_id: id, client_secret: SECRET_A, grant_types: ['client_credentials'], scope: 'read', ...extra });

describe('ClientsRepository.sync', () => {
  it('creates every client of the file, with the secret stored as its SHA-256 only', async () => {
    expect(await repo.sync([service('a'), service('b')])).toEqual({ upserted: 2, disabled: 0 });
    const a = await repo.find('a');
    expect(a).toMatchObject({ client_id: 'a', enabled: true, scope: 'read', client_secret_hash: sha256(SECRET_A) });
    const raw = await db.selectFrom('clients').selectAll().execute();
    expect(JSON.stringify(raw)).not.toContain(SECRET_A);
  });

  it('updates a changed client in place', async () => {
    await repo.sync([service('a', { scope: 'read write', client_secret: SECRET_B, client_name: 'Renamed' }), service('b')]);
    expect(await repo.find('a')).toMatchObject({ scope: 'read write', client_name: 'Renamed', client_secret_hash: sha256(SECRET_B), enabled: true });
  });

  it('disables clients no longer in the file, keeps their row, and enables them when they return', async () => {
    expect(await repo.sync([service('a')])).toEqual({ upserted: 1, disabled: 1 });
    expect(await repo.find('b')).toMatchObject({ client_id: 'b', enabled: false });
    // a second sync has nothing more to disable
    expect(await repo.sync([service('a')])).toEqual({ upserted: 1, disabled: 0 });
    await repo.sync([service('a'), service('b')]);
    expect((await repo.find('b'))!.enabled).toBe(true);
  });

  it('disables every client when the file lists none', async () => {
    await repo.sync([]);
    expect((await repo.findAll()).every((c) => !c.enabled)).toBe(true);
  });

  it('feeds a cache that hides disabled and unknown clients', async () => {
    await repo.sync([service('a')]);
    const cache = new ClientCache(repo);
    await cache.reload();
    expect((await cache.get('a'))?.client_id).toBe('a');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('nope')).toBeUndefined();
  });
});
