// What a start reads before it opens anything (bootstrap.loadConfig): the environment, the
// client registry and the users file. Any problem is one ConfigError line naming the file (or
// "environment") and the field; main.ts prints it and exits 1 (test/foundation/start.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/bootstrap.js';
import { configRefusal } from './refusal.js';

const dir = mkdtempSync(path.join(tmpdir(), 'load-config-'));
function file(name: string, content: unknown): string {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const refusal = (env: NodeJS.ProcessEnv) => configRefusal(() => loadConfig(env), 'the configuration');

const SECRET = 's'.repeat(40);
const goodClients = () => file('clients-ok.json', { clients: [{ client_id: 'svc', client_secret: '${SVC_SECRET}', grant_types: ['client_credentials'] }] });

describe('loadConfig', () => {
  it('loads the demo configuration of config/ in development', () => {
    const { env, clients, users } = loadConfig({});
    expect(env.production).toBe(false);
    expect(clients.length).toBeGreaterThanOrEqual(6);
    expect(users.map((u) => u.username)).toContain('alice');
  });

  it('interpolates ${VAR} in both files from the same environment', () => {
    const users = file('users-var.json', { users: [{ username: 'op', password: '${OP_PASSWORD}' }] });
    const config = loadConfig({ CLIENTS_FILE: goodClients(), USERS_FILE: users, SVC_SECRET: SECRET, OP_PASSWORD: 'op-password-1' });
    expect(config.clients[0]!.client_secret).toBe(SECRET);
    expect(config.users[0]!.password).toBe('op-password-1');
  });

  it('refuses a bad users file with one line naming the file, the user and the field', () => {
    const users = file('users-bad.json', { users: [{ username: 'a', password: 'p' }, { username: 'b' }] });
    expect(refusal({ CLIENTS_FILE: goodClients(), USERS_FILE: users, SVC_SECRET: SECRET })).toBe(
      `${users}: users[1].password: give exactly one of password or password_hash`,
    );
    expect(refusal({ CLIENTS_FILE: goodClients(), USERS_FILE: path.join(dir, 'missing.json'), SVC_SECRET: SECRET })).toBe(
      `${path.join(dir, 'missing.json')}: cannot read the users file (ENOENT)`,
    );
    const broken = file('users-broken.json', '{"users": [');
    expect(refusal({ CLIENTS_FILE: goodClients(), USERS_FILE: broken, SVC_SECRET: SECRET })).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
  });

  it('refuses a registry that names a variable that is not set', () => {
    expect(refusal({ CLIENTS_FILE: goodClients() })).toBe(`${path.join(dir, 'clients-ok.json')}: clients[0].client_secret: environment variable SVC_SECRET is not set`);
  });

  it('checks the environment first, then the registry, then the users file', () => {
    expect(refusal({ PORT: 'x', CLIENTS_FILE: path.join(dir, 'missing.json') })).toBe('environment: PORT: must be a port number from 0 to 65535');
    const users = file('users-bad2.json', { users: [{}] });
    expect(refusal({ CLIENTS_FILE: path.join(dir, 'missing.json'), USERS_FILE: users })).toBe(`${path.join(dir, 'missing.json')}: cannot read the client registry (ENOENT)`);
  });

  it('in production reads no users file unless USERS_FILE is set, and then refuses plaintext passwords', () => {
    const prod = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', SECRET_KEY: SECRET, CLIENTS_FILE: goodClients(), SVC_SECRET: 'r'.repeat(40) };
    expect(loadConfig(prod).users).toEqual([]);
    const users = file('users-plain.json', { users: [{ username: 'op', password: 'op-password-1' }] });
    expect(refusal({ ...prod, USERS_FILE: users })).toBe(
      `${users}: users[0].password: plaintext passwords are refused in production; use password_hash (npm run cli -- users hash)`,
    );
  });
});
