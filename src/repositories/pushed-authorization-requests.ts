// Pushed authorization requests (RFC 9126): the request_uri is kept as SHA-256 only.
import { sql } from 'kysely';
import { sha256 } from '../crypto/hash.js';
import type { Db } from '../db/index.js';

export interface PushedRequest {
  params: Record<string, string>;
  /** the parameters came from a signed request object (RFC 9101) */
  request_object: boolean;
}

export class PushedAuthorizationRequestsRepository {
  constructor(private readonly db: Db) {}

  async create(p: PushedRequest & { request_uri: string; client_id: string; expires_at: Date }): Promise<void> {
    await this.db
      .insertInto('pushed_authorization_requests')
      .values({
        request_uri_hash: sha256(p.request_uri),
        client_id: p.client_id,
        params: JSON.stringify(p.params),
        request_object: p.request_object,
        expires_at: p.expires_at,
      })
      .execute();
  }

  /**
   * Spends a request_uri of this client (RFC 9126 §4: one-time). One DELETE ... RETURNING: of
   * two concurrent uses exactly one gets the request; an unknown, expired, spent or another
   * client's request_uri gets nothing.
   */
  async consume(requestUri: string, clientId: string): Promise<PushedRequest | undefined> {
    const row = await this.db
      .deleteFrom('pushed_authorization_requests')
      .where('request_uri_hash', '=', sha256(requestUri))
      .where('client_id', '=', clientId)
      .where('expires_at', '>', sql<Date>`now()`)
      .returning(['params', 'request_object'])
      .executeTakeFirst();
    return row && { params: row.params, request_object: row.request_object };
  }
}
