// Signing key rotation (issue 8, point 5): the times a rotation uses, and the optional automatic
// rotation every KEY_ROTATION_DAYS days. A new key is published at once and signs after
// KEY_PUBLICATION_DELAY_SECONDS (src/crypto/keystore.ts); the key it replaces stays published
// while tokens it signed may still be valid.
import type { Env } from '../config/env.js';
import type { AppContext } from '../context.js';
import type { Client } from '../repositories/clients.js';
import type { RotationTimes } from '../repositories/keys.js';
import { Keystore } from './keystore.js';
import { SIGNING_ALGS, type SigningAlg } from './signing-algs.js';

/** How often a server checks whether a key is due (the check is one query per algorithm). */
const CHECK_EVERY_MS = 3_600_000;

/**
 * How long a retired key must stay published once it stops signing: the longest lifetime of
 * anything it signed (access and ID tokens, server-wide or per client), plus the time another
 * instance may keep signing with it before its keystore reloads and sees the rotation.
 */
export function retiredKeyPublishSeconds(env: Pick<Env, 'ACCESS_TOKEN_TTL' | 'ID_TOKEN_TTL'>, clients: Partial<Pick<Client, 'access_token_ttl' | 'id_token_ttl'>>[]): number {
  const lifetimes = [env.ACCESS_TOKEN_TTL, env.ID_TOKEN_TTL, ...clients.flatMap((c) => [c.access_token_ttl ?? 0, c.id_token_ttl ?? 0])];
  return Math.max(...lifetimes) + Math.ceil(Keystore.RELOAD_MS / 1000);
}

export async function rotationTimes(ctx: AppContext): Promise<RotationTimes> {
  // every client, disabled ones too: tokens they were given before may still be alive
  const publishSeconds = retiredKeyPublishSeconds(ctx.env, await ctx.repos.clients.findAll());
  return { delaySeconds: ctx.env.KEY_PUBLICATION_DELAY_SECONDS, publishSeconds };
}

/** Every algorithm with a key in use, on the whole database (what other instances added too). */
export async function algsInUse(ctx: AppContext): Promise<SigningAlg[]> {
  const active = new Set(await ctx.repos.keys.activeAlgs());
  return SIGNING_ALGS.filter((a) => active.has(a));
}

/** Rotates each algorithm in use whose newest key is older than `days`; returns what it added. */
export async function rotateDueKeys(ctx: AppContext, days: number): Promise<{ alg: SigningAlg; kid: string }[]> {
  const times = await rotationTimes(ctx);
  const rotated: { alg: SigningAlg; kid: string }[] = [];
  for (const alg of await algsInUse(ctx)) {
    const kid = await ctx.keystore.rotateIfOlderThan(alg, days, times);
    if (kid) rotated.push({ alg, kid });
  }
  return rotated;
}

/** The part of a pino logger (app.log) the job writes to. */
export interface RotationLog {
  info: (obj: object, msg: string) => void;
  warn: (obj: object, msg: string) => void;
}

export interface ScheduledRotation {
  /** the check made at start */
  firstCheck: Promise<void>;
  stop: () => void;
}

/**
 * With KEY_ROTATION_DAYS set, checks at start and then every hour whether a key is due, and
 * rotates it. Several instances on one PostgreSQL may check at once: the check and the rotation
 * hold the algorithm's advisory lock (KeysRepository.rotateIfOlderThan), so one of them rotates.
 */
export function scheduleKeyRotation(ctx: AppContext, log: RotationLog): ScheduledRotation | undefined {
  const days = ctx.env.KEY_ROTATION_DAYS;
  if (days === undefined) return undefined;
  const check = async () => {
    try {
      for (const { alg, kid } of await rotateDueKeys(ctx, days))
        log.info({ alg, kid, publication_delay_s: ctx.env.KEY_PUBLICATION_DELAY_SECONDS }, 'signing key rotated (automatic); it signs once the publication delay has passed');
    } catch (e) {
      log.warn({ err: e }, 'automatic key rotation failed; trying again in an hour');
    }
  };
  const firstCheck = check();
  const timer = setInterval(() => void check(), CHECK_EVERY_MS).unref();
  return { firstCheck, stop: () => clearInterval(timer) };
}
