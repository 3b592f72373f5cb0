// `keys rotate [--alg RS256|PS256|ES256|EdDSA]` and `keys list`.
import { createContext } from '../context.js';
import { algsInUse, rotationTimes } from '../crypto/key-rotation.js';
import { SIGNING_ALGS, type SigningAlg } from '../crypto/signing-algs.js';
import { KeysRepository } from '../repositories/keys.js';
import { CliError, parse, withDatabase, type CliIO } from './io.js';

export async function keysRotate(args: string[], io: CliIO): Promise<void> {
  const { values } = parse(args, { alg: { type: 'string' } });
  if (values.alg !== undefined && !(SIGNING_ALGS as readonly string[]).includes(values.alg))
    throw new CliError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
  await withDatabase(io, async (db, env) => {
    const ctx = await createContext(env, db);
    // default: every algorithm in use, the registry's included (each has a key since the server synced it)
    const algs: SigningAlg[] = values.alg ? [values.alg as SigningAlg] : await algsInUse(ctx);
    const times = await rotationTimes(ctx);
    const from = new Date(Date.now() + times.delaySeconds * 1000);
    const until = new Date(from.getTime() + times.publishSeconds * 1000);
    for (const alg of algs) {
      const kid = await ctx.keystore.rotate(alg, times);
      io.out(
        `${alg}: new signing key ${kid}, published now, signs from ${from.toISOString()} (in ${times.delaySeconds} s); the previous key signs until then and stays published until ${until.toISOString()} (${times.publishSeconds} s more)`,
      );
    }
    io.out('Every server publishes the new key at once and switches to it at that time.');
  });
}

export async function keysList(args: string[], io: CliIO): Promise<void> {
  parse(args, {});
  await withDatabase(io, async (db) => {
    const rows = await new KeysRepository(db).published();
    const signing = new Set<string>();
    const now = Date.now();
    const lines = rows.map((r) => {
      // as the keystore decides: the key activated last signs (rows come latest activation first)
      const activatesAt = new Date(r.activates_at);
      let state: string;
      if (activatesAt.getTime() > now) state = `published, signs from ${activatesAt.toISOString()}`;
      else if (!signing.has(r.alg)) {
        signing.add(r.alg);
        state = r.retired_at === null ? 'signing' : `signing until ${new Date(r.retired_at).toISOString()}`;
      } else state = `retired, published until ${new Date(r.publish_until!).toISOString()}`;
      return [r.kid, r.alg, new Date(r.created_at).toISOString(), state];
    });
    const table = [['KID', 'ALG', 'CREATED', 'STATE'], ...lines];
    const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) io.out(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  '));
    if (!rows.length) io.out('(no keys yet: the server or `keys rotate` creates them)');
  });
}
