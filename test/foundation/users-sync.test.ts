// The users file is synced at every start; a sub, once given, never changes (OIDC Core §2).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { start } from '../../src/bootstrap.js';
import { ConfigError, loadEnv } from '../../src/config/env.js';
import { freshDatabase } from '../support/harness.js';

let fresh: Awaited<ReturnType<typeof freshDatabase>>;
beforeAll(async () => {
  fresh = await freshDatabase();
});
afterAll(async () => fresh?.drop());

const env = loadEnv({ SECRET_KEY: 's'.repeat(40), USERS_FILE: 'staff.json', LOG_LEVEL: 'silent' });
const user = (sub: string) => ({ username: 'olga', password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', claims: {}, sub });

it('refuses a restart whose users file gives an existing user another sub, naming the file', async () => {
  await start({ env, clients: [], users: [user('olga-1')] }, { db: fresh.db });
  const again = start({ env, clients: [], users: [user('olga-2')] }, { db: fresh.db });
  await expect(again).rejects.toBeInstanceOf(ConfigError);
  await expect(again).rejects.toThrow('staff.json: user olga already has sub olga-1; a sub never changes (OpenID Connect Core §2)');
  expect((await fresh.db.selectFrom('users').select('sub').where('username', '=', 'olga').executeTakeFirst())?.sub).toBe('olga-1');
});
