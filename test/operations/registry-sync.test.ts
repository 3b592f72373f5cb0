// The registry and the users file are written in one transaction (src/operations/registry-sync.ts):
// a refusal that only the database can make (a users file that gives an existing user another
// sub, OpenID Connect Core §2) leaves every row as it was, the clients of the same sync included.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { hashUsers, syncRegistry } from '../../src/operations/registry-sync.js';
import { ClientsRepository } from '../../src/repositories/clients.js';
import { RegistryVersionRepository } from '../../src/repositories/registry-version.js';
import { ALICE, defaultClients, defaultUsers, startTestServer, type TestServer } from '../support/harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const enabled = async () =>
  (await new ClientsRepository(s.ctx.db).findAll())
    .filter((c) => c.enabled)
    .map((c) => c.client_id)
    .sort();

it('a sync refused half-way writes nothing', async () => {
  const clientsBefore = await enabled();
  const users = await hashUsers(defaultUsers());
  const first = await syncRegistry(s.ctx.db, { clients: defaultClients(), users, clientsFile: 'clients.json', usersFile: 'users.json' });
  expect(await enabled()).toEqual(clientsBefore);

  // drops every client but one, and gives alice another sub: refused at the users
  const sync = syncRegistry(s.ctx.db, {
    clients: defaultClients().filter((c) => c.client_id === 'service'),
    users: users.map((u) => ({ ...u, sub: 'another-sub' })),
    clientsFile: 'clients.json', usersFile: 'users.json',
  });
  await expect(sync).rejects.toBeInstanceOf(ConfigError);
  await expect(sync).rejects.toThrow(`users.json: user ${ALICE.username} already has sub ${ALICE.sub}; a sub never changes (OpenID Connect Core §2)`);
  expect(await enabled()).toEqual(clientsBefore);
  expect(await new RegistryVersionRepository(s.ctx.db).current()).toBe(first.version);

  // and a sync that is accepted raises the version
  const next = await syncRegistry(s.ctx.db, { clients: defaultClients().filter((c) => c.client_id === 'service'), users, clientsFile: 'clients.json', usersFile: 'users.json' });
  expect(await enabled()).toEqual(['service']);
  expect(BigInt(next.version)).toBe(BigInt(first.version) + 1n);
});
