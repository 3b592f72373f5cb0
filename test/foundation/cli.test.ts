// The admin command line, run in-process on a test database, and once as a real process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import type { CliIO } from '../../src/cli/io.js';
import { loadEnv } from '../../src/config/env.js';
import { parseUsers } from '../../src/config/users.js';
import { createContext } from '../../src/context.js';
import { retiredKeyPublishSeconds } from '../../src/crypto/key-rotation.js';
import { verifyPassword } from '../../src/crypto/password.js';
import type { Db } from '../../src/db/index.js';
import { UsersRepository } from '../../src/repositories/users.js';
import { freshDatabase } from '../support/harness.js';

const run = promisify(execFile);
const env = { SECRET_KEY: 'cli-test-secret-key-0123456789-0123456789' };

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, drop } = await freshDatabase());
});
afterAll(async () => drop?.());

interface Result {
  code: number;
  out: string[];
  err: string[];
  asked: string[];
}

/** Runs a command with canned answers for prompts. */
async function cli(argv: string[], opts: { answers?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  const result: Result = { code: -1, out: [], err: [], asked: [] };
  const answers = [...(opts.answers ?? [])];
  const io: CliIO = {
    out: (l) => result.out.push(l),
    err: (l) => result.err.push(l),
    ask: async (q) => {
      result.asked.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt ${q}`);
      return a;
    },
    env: { ...env, ...opts.env },
    openDb: async () => ({ db, close: async () => {} }),
  };
  result.code = await runCli(argv, io);
  return result;
}

const users = () => new UsersRepository(db);

describe('cli: help and dispatch', () => {
  it('--help lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    const help = r.out.join('\n');
    for (const c of ['clients check', 'clients schema', 'keys rotate', 'keys list', 'users add', 'users set-password', 'users hash']) expect(help).toContain(c);
  });

  it('an unknown command or flag is one line and exit 1', async () => {
    expect(await cli(['users', 'remove'])).toMatchObject({ code: 1, err: ['error: unknown command "users remove" (npm run cli -- --help lists the commands)'] });
    const r = await cli(['keys', 'rotate', '--alg', 'HS256']);
    expect(r).toMatchObject({ code: 1, err: ['error: --alg must be one of RS256, PS256, ES256, EdDSA'] });
    const flag = await cli(['keys', 'list', '--colour']);
    expect(flag.code).toBe(1);
    expect(flag.err).toHaveLength(1);
    expect(flag.err[0]).toMatch(/^error: Unknown option '--colour'/);
  });
});

describe('cli: clients', () => {
  it('check prints OK with the count for a good file', async () => {
    expect(await cli(['clients', 'check', 'config/clients.json'])).toMatchObject({ code: 0, out: ['OK: config/clients.json: 6 clients'], err: [] });
  });

  it('check prints the loader refusal on one line and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-'));
    const file = path.join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'a', redirect_uris: ['https://a.example.com/#x'], token_endpoint_auth_method: 'none' }] }));
    expect(await cli(['clients', 'check', file])).toMatchObject({ code: 1, out: [], err: [`error: ${file}: clients[0].redirect_uris[0]: must be an absolute URL without a fragment`] });
  });

  it('check applies production rules with --production or NODE_ENV=production', async () => {
    const refused = 'error: config/clients.json: clients[0].client_secret: is a demo secret; set a random one in production';
    expect((await cli(['clients', 'check', 'config/clients.json', '--production'])).err[0]).toMatch(new RegExp(`^${refused.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(await cli(['clients', 'check', 'config/clients.json'], { env: { NODE_ENV: 'production' } })).toMatchObject({ code: 1 });
  });

  it('check interpolates ${VAR} from the environment', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-'));
    const file = path.join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'svc', client_secret: '${SVC_SECRET}', grant_types: ['client_credentials'] }] }));
    expect(await cli(['clients', 'check', file], { env: { SVC_SECRET: 's'.repeat(40) } })).toMatchObject({ code: 0, out: [`OK: ${file}: 1 client`] });
    expect(await cli(['clients', 'check', file])).toMatchObject({ code: 1, err: [`error: ${file}: clients[0].client_secret: environment variable SVC_SECRET is not set`] });
  });

  it('schema prints the committed config/clients.schema.json', async () => {
    const r = await cli(['clients', 'schema']);
    expect(`${r.out.join('\n')}\n`).toBe(readFileSync('config/clients.schema.json', 'utf8'));
  });
});

describe('cli: users', () => {
  it('add with flags creates the user with a stable sub and a hashed password', async () => {
    const r = await cli(['users', 'add', '--username', 'bob', '--password', 'bob-password-1', '--name', 'Bob B', '--email', 'bob@example.com']);
    expect(r.code).toBe(0);
    const bob = (await users().findByUsername('bob'))!;
    expect(r.out).toEqual([`added user bob (sub ${bob.sub})`]);
    expect(bob.claims).toMatchObject({ name: 'Bob B', email: 'bob@example.com', preferred_username: 'bob' });
    expect(bob.password_hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(bob.password_hash, 'bob-password-1')).toBe(true);
  });

  it('add asks for a missing username and password, hiding the password', async () => {
    const r = await cli(['users', 'add', '--sub', 'carol-sub-1'], { answers: ['carol', 'carol-password-1'] });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual(['Username: ', 'Password: ']);
    const carol = (await users().findByUsername('carol'))!;
    expect(carol.sub).toBe('carol-sub-1');
    expect(await verifyPassword(carol.password_hash, 'carol-password-1')).toBe(true);
  });

  it('add refuses an existing user, a taken sub, a short password and a bad email', async () => {
    expect(await cli(['users', 'add', '--username', 'bob', '--password', 'another-password'])).toMatchObject({
      code: 1,
      err: ['error: user "bob" already exists (change the password with: users set-password bob)'],
    });
    expect(await cli(['users', 'add', '--username', 'dave', '--password', 'dave-password', '--sub', 'carol-sub-1'])).toMatchObject({
      code: 1,
      err: ['error: sub "carol-sub-1" belongs to another user'],
    });
    expect(await cli(['users', 'add', '--username', 'dave', '--password', 'short'])).toMatchObject({ code: 1, err: ['error: password: must be at least 8 characters'] });
    expect(await cli(['users', 'add', '--username', 'dave', '--password', 'dave-password', '--email', 'nope'])).toMatchObject({ code: 1, err: ['error: email: not an email address'] });
    expect(await users().findByUsername('dave')).toBeUndefined();
  });

  it('set-password changes the password of a known user and keeps the sub', async () => {
    const before = (await users().findByUsername('bob'))!;
    expect(await cli(['users', 'set-password', 'bob'], { answers: ['bob-password-2'] })).toMatchObject({ code: 0, out: ['password of bob changed'] });
    const after = (await users().findByUsername('bob'))!;
    expect(after.sub).toBe(before.sub);
    expect(await verifyPassword(after.password_hash, 'bob-password-2')).toBe(true);
    expect(await verifyPassword(after.password_hash, 'bob-password-1')).toBe(false);
    expect(await cli(['users', 'set-password', 'bob', '--password', 'bob-password-3'])).toMatchObject({ code: 0 });
  });

  it('set-password refuses an unknown user before asking for a password', async () => {
    expect(await cli(['users', 'set-password', 'nobody'])).toMatchObject({ code: 1, err: ['error: no user "nobody"'], asked: [] });
    expect(await cli(['users', 'set-password'])).toMatchObject({ code: 1, err: ['error: usage: users set-password USERNAME [--password PASSWORD]'] });
  });

  it('hash prints an argon2id hash that USERS_FILE accepts in production', async () => {
    const r = await cli(['users', 'hash'], { answers: ['erin-password'] });
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const file = JSON.stringify({ users: [{ username: 'erin', password_hash: r.out[0] }] });
    const [erin] = parseUsers(file, 'users.json', { production: true, env: {} });
    expect(await verifyPassword(erin!.password_hash!, 'erin-password')).toBe(true);
  });
});

describe('cli: keys', () => {
  it('keep a retired key published for the longest token lifetime, client overrides included, plus one keystore reload', () => {
    expect(retiredKeyPublishSeconds({ ACCESS_TOKEN_TTL: 3600, ID_TOKEN_TTL: 600 }, [])).toBe(3660);
    expect(retiredKeyPublishSeconds({ ACCESS_TOKEN_TTL: 3600, ID_TOKEN_TTL: 600 }, [{ access_token_ttl: 300 }, { id_token_ttl: 86_400 }])).toBe(86_460);
  });

  it('rotate adds a new signing key per algorithm and list shows the old ones retired but published', async () => {
    // before the server ever started there is nothing to list, and listing creates nothing
    expect((await cli(['keys', 'list'])).out).toEqual(['KID  ALG  CREATED  STATE', '(no keys yet: the server or `keys rotate` creates them)']);
    await createContext(loadEnv(env), db); // the first server start
    const first = await cli(['keys', 'list']);
    expect(first.code).toBe(0);
    const initial = first.out.slice(1).map((l) => l.split(/\s+/));
    expect(initial.map((c) => [c[1], c[3]]).sort()).toEqual([
      ['ES256', 'signing'],
      ['RS256', 'signing'],
    ]);

    const r = await cli(['keys', 'rotate', '--alg', 'RS256'], { env: { ACCESS_TOKEN_TTL: '7200' } });
    expect(r.code).toBe(0);
    // published now, signing after KEY_PUBLICATION_DELAY_SECONDS (default 600)
    expect(r.out[0]).toMatch(/^RS256: new signing key \S+, published now, signs from \S+ \(in 600 s\); the previous key signs until then and stays published until \S+ \(7260 s more\)$/);
    const newKid = /new signing key (\S+),/.exec(r.out[0]!)![1];

    const list = (await cli(['keys', 'list'])).out.slice(1);
    const oldRsa = initial.find((c) => c[1] === 'RS256')![0]!;
    expect(list.find((l) => l.startsWith(newKid!))).toMatch(/RS256 .* published, signs from \S+$/);
    expect(list.find((l) => l.startsWith(oldRsa))).toMatch(/RS256 .* signing until \S+$/);
    expect(list.find((l) => l.startsWith(initial.find((c) => c[1] === 'ES256')![0]!))).toMatch(/signing$/);

    const rows = await db.selectFrom('signing_keys').selectAll().where('kid', '=', oldRsa).execute();
    const seconds = (new Date(rows[0]!.publish_until!).getTime() - new Date(rows[0]!.retired_at!).getTime()) / 1000;
    expect(seconds).toBeCloseTo(7260, 0);
  });

  it('rotate without --alg rotates every algorithm', async () => {
    const r = await cli(['keys', 'rotate']);
    expect(r.out.filter((l) => /^(RS256|ES256): new signing key/.test(l))).toHaveLength(2);
  });

  it('refuses to work on an in-memory database', async () => {
    const { openServerDatabase } = await import('../../src/cli/io.js');
    await expect(openServerDatabase(loadEnv({ DATA_DIR: 'memory://' }))).rejects.toThrow(/^DATA_DIR is memory:\/\//);
  });
});

describe('cli as a process', () => {
  const tsx = ['--import', 'tsx', 'src/cli/index.ts'];

  it('prints a refusal as one line on stderr with exit code 1, no stack trace', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-'));
    const file = path.join(dir, 'clients.json');
    writeFileSync(file, '{"clients": [{"client_id": "a", "client_secret": "short", "grant_types": ["client_credentials"]}]}');
    const err = await run(process.execPath, [...tsx, 'clients', 'check', file]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1, stdout: '' });
    expect((err as { stderr: string }).stderr).toBe(`error: ${file}: clients[0].client_secret: must be at least 32 characters (use a long random value)\n`);
  });

  it('reads a piped answer for a prompt and prints only the result on stdout', async () => {
    const child = run(process.execPath, [...tsx, 'users', 'hash']);
    child.child.stdin!.end('piped-password\n');
    const { stdout, stderr } = await child;
    expect(stdout).toMatch(/^\$argon2id\$v=19\$\S+\n$/);
    expect(stderr).toBe('Password: ');
    expect(await verifyPassword(stdout.trim(), 'piped-password')).toBe(true);
  });
});
