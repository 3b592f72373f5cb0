// `keys rotate [--alg RS256|ES256]` and `keys list`.
import type { Env } from '../config/env.js';
import { createContext } from '../context.js';
import { Keystore, SUPPORTED_ALGS, type SigningAlg } from '../crypto/keystore.js';
import type { Client } from '../repositories/clients.js';
import { KeysRepository } from '../repositories/keys.js';
import { CliError, parse, withDatabase, type CliIO } from './io.js';

/**
 * How long a retired key must stay published: the longest lifetime of anything it signed
 * (access and ID tokens, server-wide or per client), plus the time another instance may keep
 * signing with it before its keystore reloads and sees the rotation.
 */
export function retiredKeyPublishSeconds(env: Pick<Env, 'ACCESS_TOKEN_TTL' | 'ID_TOKEN_TTL'>, clients: Partial<Pick<Client, 'access_token_ttl' | 'id_token_ttl'>>[]): number {
  const lifetimes = [env.ACCESS_TOKEN_TTL, env.ID_TOKEN_TTL, ...clients.flatMap((c) => [c.access_token_ttl ?? 0, c.id_token_ttl ?? 0])];
  return Math.max(...lifetimes) + Math.ceil(Keystore.RELOAD_MS / 1000);
}

export async function keysRotate(args: string[], io: CliIO): Promise<void> {
  const { values } = parse(args, { alg: { type: 'string' } });
  if (values.alg !== undefined && !(SUPPORTED_ALGS as readonly string[]).includes(values.alg))
    throw new CliError(`--alg must be one of ${SUPPORTED_ALGS.join(', ')}`);
  const algs: SigningAlg[] = values.alg ? [values.alg as SigningAlg] : [...SUPPORTED_ALGS];
  await withDatabase(io, async (db, env) => {
    const ctx = await createContext(env, db);
    // every client, disabled ones too: tokens they were given before may still be alive
    const seconds = retiredKeyPublishSeconds(env, await ctx.repos.clients.findAll());
    const until = new Date(Date.now() + seconds * 1000).toISOString();
    for (const alg of algs) {
      const kid = await ctx.keystore.rotate(alg, seconds);
      io.out(`${alg}: new signing key ${kid}; the previous key stays published until ${until} (${seconds} s)`);
    }
    io.out('Running servers pick the new key up within a minute.');
  });
}

export async function keysList(args: string[], io: CliIO): Promise<void> {
  parse(args, {});
  await withDatabase(io, async (db) => {
    const rows = await new KeysRepository(db).published();
    const signing = new Set<string>();
    const lines = rows.map((r) => {
      // newest active key of an algorithm signs (the rows come newest first, as the keystore reads them)
      let state: string;
      if (r.retired_at === null && !signing.has(r.alg)) {
        signing.add(r.alg);
        state = 'signing';
      } else if (r.retired_at === null) state = 'active';
      else state = `retired, published until ${new Date(r.publish_until!).toISOString()}`;
      return [r.kid, r.alg, new Date(r.created_at).toISOString(), state];
    });
    const table = [['KID', 'ALG', 'CREATED', 'STATE'], ...lines];
    const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) io.out(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  '));
    if (!rows.length) io.out('(no keys yet: the server or `keys rotate` creates them)');
  });
}
