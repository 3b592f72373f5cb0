// Grants, authorization codes and refresh-token families.
// One-time values are spent with one conditional UPDATE ... RETURNING, so of two concurrent
// redemptions exactly one gets the row (ARCHITECTURE.md "One-time things are spent atomically").
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { AuthorizationCodeRow, GrantRow } from '../db/schema.js';
import { sha256 } from '../crypto/hash.js';

export interface NewGrant {
  grant_id: string;
  client_id: string;
  sub: string | null;
  scope: string;
  auth_time: Date | null;
  claims?: Record<string, unknown> | null;
  /** the login session it was given in (Back-Channel Logout) */
  session_id_hash?: string | null;
  expires_at: Date;
}

export interface NewAuthorizationCode {
  code: string;
  grant_id: string;
  client_id: string;
  sub: string;
  redirect_uri: string;
  scope: string;
  nonce: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  auth_time: Date;
  session_id_hash: string | null;
  claims: Record<string, unknown> | null;
  include_auth_time: boolean;
  expires_at: Date;
}

export type RefreshTokenRedemption =
  | { outcome: 'ok'; grant: GrantRow; scope: string; client_id: string }
  | { outcome: 'reused'; grant_id: string; client_id: string }
  | { outcome: 'unknown' };

export class GrantsRepository {
  constructor(private readonly db: Db) {}

  async createGrant(g: NewGrant): Promise<void> {
    await this.db
      .insertInto('grants')
      .values({ ...g, claims: g.claims ? JSON.stringify(g.claims) : null })
      .execute();
  }

  async findGrant(grantId: string): Promise<GrantRow | undefined> {
    return this.db.selectFrom('grants').selectAll().where('grant_id', '=', grantId).executeTakeFirst();
  }

  /** True when the grant exists, is not revoked and has not expired. */
  async isGrantActive(grantId: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('grants')
      .select('grant_id')
      .where('grant_id', '=', grantId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return !!r;
  }

  /** Ends a grant: its refresh tokens and the access tokens minted from it stop working. */
  async revokeGrant(grantId: string): Promise<void> {
    await this.db.updateTable('grants').set({ revoked_at: sql`now()` }).where('grant_id', '=', grantId).where('revoked_at', 'is', null).execute();
  }

  async saveCode(c: NewAuthorizationCode): Promise<void> {
    const { code, claims, ...rest } = c;
    await this.db
      .insertInto('authorization_codes')
      .values({ ...rest, code_hash: sha256(code), claims: claims ? JSON.stringify(claims) : null })
      .execute();
  }

  /**
   * Spends a code (RFC 6749 §4.1.2: single use). Returns the row when this call spent it;
   * `replayed` with the row when it had been spent before (the caller revokes the grant);
   * `unknown` when there is no such code. With `clientId`, a live code of another client is
   * left unspent: `other_client` (RFC 6749 §4.1.3: the code must have been issued to this client).
   */
  async consumeCode(
    code: string,
    clientId?: string,
  ): Promise<{ outcome: 'ok' | 'replayed' | 'other_client'; row: AuthorizationCodeRow } | { outcome: 'unknown' }> {
    const hash = sha256(code);
    let spend = this.db.updateTable('authorization_codes').set({ consumed_at: sql`now()` }).where('code_hash', '=', hash).where('consumed_at', 'is', null);
    if (clientId !== undefined) spend = spend.where('client_id', '=', clientId);
    const spent = await spend.returningAll().executeTakeFirst();
    if (spent) return { outcome: 'ok', row: spent };
    const before = await this.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
    if (!before) return { outcome: 'unknown' };
    return { outcome: before.consumed_at ? 'replayed' : 'other_client', row: before };
  }

  async saveRefreshToken(t: { token: string; grant_id: string; client_id: string; scope: string; expires_at: Date }): Promise<void> {
    const { token, ...rest } = t;
    await this.db.insertInto('refresh_tokens').values({ ...rest, token_hash: sha256(token) }).execute();
  }

  /**
   * Rotates a refresh token (RFC 9700 §4.14.2): marks it used and returns its live grant. A token
   * used before means it was stolen or replayed: `reused`, and the caller revokes the family.
   */
  async redeemRefreshToken(token: string): Promise<RefreshTokenRedemption> {
    const hash = sha256(token);
    const spent = await this.db
      .updateTable('refresh_tokens')
      .set({ rotated_at: sql`now()` })
      .where('token_hash', '=', hash)
      .where('rotated_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .returning(['grant_id', 'scope', 'client_id'])
      .executeTakeFirst();
    if (spent) {
      const grant = await this.findGrant(spent.grant_id);
      if (!grant) return { outcome: 'unknown' };
      return { outcome: 'ok', grant, scope: spent.scope, client_id: spent.client_id };
    }
    const before = await this.db.selectFrom('refresh_tokens').select(['grant_id', 'client_id', 'rotated_at']).where('token_hash', '=', hash).executeTakeFirst();
    if (before?.rotated_at) return { outcome: 'reused', grant_id: before.grant_id, client_id: before.client_id };
    return { outcome: 'unknown' };
  }

  /** The refresh token's grant without spending it (revocation, introspection). */
  async findRefreshToken(token: string) {
    return this.db
      .selectFrom('refresh_tokens')
      .innerJoin('grants', 'grants.grant_id', 'refresh_tokens.grant_id')
      .select([
        'refresh_tokens.grant_id',
        'refresh_tokens.client_id',
        'refresh_tokens.scope',
        'refresh_tokens.created_at',
        'refresh_tokens.expires_at',
        'refresh_tokens.rotated_at',
        'grants.sub',
        'grants.revoked_at',
      ])
      .where('refresh_tokens.token_hash', '=', sha256(token))
      .executeTakeFirst();
  }
}
