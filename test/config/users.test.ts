// USERS_FILE: plaintext passwords only outside production, hashes must be argon2id.
import { describe, expect, it } from 'vitest';
import { loadUsers, parseUsers } from '../../src/config/users.js';
import { hashPassword } from '../../src/crypto/password.js';
import { configRefusal } from './refusal.js';

const parse = (users: unknown[], production = false, env: NodeJS.ProcessEnv = {}) =>
  parseUsers(JSON.stringify({ users }), 'users.json', { production, env });

const refusal = (users: unknown[], production = false) => configRefusal(() => parse(users, production), 'the users file');

describe('users file', () => {
  it('refuses a plaintext password in production and accepts it in development', () => {
    const users = [{ username: 'alice', password: 'alice-password' }];
    expect(parse(users)[0]!.password).toBe('alice-password');
    expect(refusal(users, true)).toBe(
      'users.json: users[0].password: plaintext passwords are refused in production; use password_hash (npm run cli -- users hash)',
    );
  });

  it('accepts an argon2id hash made by the server (the CLI `users hash` output), in production too', async () => {
    const hash = await hashPassword('alice-password');
    const [u] = parse([{ username: 'alice', password_hash: hash, sub: '248289761001' }], true);
    expect(u).toMatchObject({ username: 'alice', password_hash: hash, sub: '248289761001', claims: {} });
  });

  it('refuses a password_hash that is not argon2id', () => {
    const message = 'users.json: users[0].password_hash: must be an argon2id hash ($argon2id$v=19$...)';
    expect(refusal([{ username: 'alice', password_hash: 'alice-password' }])).toBe(message);
    expect(refusal([{ username: 'alice', password_hash: '$2b$10$abcdefghijklmnopqrstuuJ0Hx0dDgW5o7z0Xh6vKf1jQb0p0a1bC' }])).toBe(message);
    expect(refusal([{ username: 'alice', password_hash: '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo' }])).toBe(message);
  });

  it('wants exactly one of password and password_hash', () => {
    expect(refusal([{ username: 'alice' }])).toBe('users.json: users[0].password: give exactly one of password or password_hash');
  });

  it('refuses a duplicate username and a sub with spaces', () => {
    expect(refusal([{ username: 'a', password: 'p' }, { username: 'a', password: 'q' }])).toBe('users.json: users[1].username: duplicate username "a"');
    expect(refusal([{ username: 'a', password: 'p', sub: 'has space' }])).toBe('users.json: users[0].sub: must be visible ASCII without spaces');
  });

  it('interpolates ${VAR} and names a missing one', () => {
    expect(parse([{ username: 'a', password: '${A_PASSWORD}' }], false, { A_PASSWORD: 'from-env' })[0]!.password).toBe('from-env');
    expect(() => parse([{ username: 'a', password: '${A_PASSWORD}' }])).toThrow('users.json: users[0].password: environment variable A_PASSWORD is not set');
  });

  it('loads the demo users file', () => {
    const [alice] = loadUsers('config/users.json', { production: false, env: {} });
    expect(alice).toMatchObject({ username: 'alice', sub: '248289761001' });
    expect(() => loadUsers('config/users.json', { production: true, env: {} })).toThrow(/plaintext passwords are refused in production/);
  });
});
