// Users: upsert from USERS_FILE keeps a stable sub; passwords are stored as given (a hash).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { SubConflictError, UsersRepository } from '../../src/repositories/users.js';
import { freshDatabase } from '../support/harness.js';

let db: Db;
let drop: () => Promise<void>;
let users: UsersRepository;
beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
  users = new UsersRepository(db);
});
afterAll(async () => drop?.());

describe('UsersRepository', () => {
  it('creates a user with a generated opaque sub when none is given', async () => {
    const u = await users.upsert({ username: 'bob', password_hash: 'h1', claims: { name: 'Bob' } });
    expect(u.sub).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(u.sub).not.toContain('bob');
    expect(await users.findBySub(u.sub)).toMatchObject({ username: 'bob', claims: { name: 'Bob' } });
  });

  it('keeps the sub when the user is updated without one (a restart with the same file)', async () => {
    const before = (await users.findByUsername('bob'))!;
    const after = await users.upsert({ username: 'bob', password_hash: 'h2', claims: { name: 'Robert' } });
    expect(after.sub).toBe(before.sub);
    expect(after).toMatchObject({ password_hash: 'h2', claims: { name: 'Robert' } });
  });

  it('uses the sub the file names', async () => {
    const u = await users.upsert({ username: 'carol', password_hash: 'h', claims: {}, sub: '248289761001' });
    expect(u.sub).toBe('248289761001');
    expect((await users.upsert({ username: 'carol', password_hash: 'h', claims: {} })).sub).toBe('248289761001');
  });

  it('gives two users two different subs', async () => {
    const a = await users.upsert({ username: 'd1', password_hash: 'h', claims: {} });
    const b = await users.upsert({ username: 'd2', password_hash: 'h', claims: {} });
    expect(a.sub).not.toBe(b.sub);
  });

  it('survives concurrent syncs of one user (two instances starting together)', async () => {
    // on PostgreSQL the pool runs these on separate connections at the same time
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => users.upsert({ username: 'erin', password_hash: `h${i}`, claims: {}, sub: 'erin-sub' })),
    );
    expect(new Set(all.map((u) => u.sub))).toEqual(new Set(['erin-sub']));
    const generated = await Promise.all(Array.from({ length: 8 }, () => users.upsert({ username: 'frank', password_hash: 'h', claims: {} })));
    expect(new Set(generated.map((u) => u.sub)).size).toBe(1);
  });

  it('refuses a sub that belongs to another username', async () => {
    await expect(users.upsert({ username: 'mallory', password_hash: 'h', claims: {}, sub: 'erin-sub' })).rejects.toThrow(
      'sub erin-sub already belongs to another user than mallory',
    );
    expect(await users.findByUsername('mallory')).toBeUndefined();
  });

  it('says a sub conflict with its own error type, which the start reports as a users-file refusal', async () => {
    await expect(users.upsert({ username: 'erin', password_hash: 'h', claims: {}, sub: 'other' })).rejects.toBeInstanceOf(SubConflictError);
  });

  it('refuses to change the sub of an existing user, and changes nothing', async () => {
    await expect(users.upsert({ username: 'erin', password_hash: 'changed', claims: {}, sub: 'erin-new-sub' })).rejects.toThrow(
      'user erin already has sub erin-sub; a sub never changes (OpenID Connect Core §2)',
    );
    expect(await users.findByUsername('erin')).toMatchObject({ sub: 'erin-sub', password_hash: expect.not.stringMatching(/^changed$/) });
  });

  it('sets a password for a known user only', async () => {
    expect(await users.setPassword('bob', 'h3')).toBe(true);
    expect((await users.findByUsername('bob'))!.password_hash).toBe('h3');
    expect(await users.setPassword('nobody', 'h')).toBe(false);
    expect(await users.findByUsername('nobody')).toBeUndefined();
  });
});
