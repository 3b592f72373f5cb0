import type { Db } from '../db/index.js';

export interface AuditEvent {
  event: string;
  client_id?: string | undefined;
  sub?: string | undefined;
  ip?: string | undefined;
  detail?: Record<string, unknown>;
}

/** Security-relevant events (sign-in, consent, token replay, revocation). Never holds a secret. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  async record(e: AuditEvent): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ event: e.event, client_id: e.client_id ?? null, sub: e.sub ?? null, ip: e.ip ?? null, detail: e.detail ? JSON.stringify(e.detail) : null })
      .execute();
  }

  async recent(limit = 50) {
    return this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }
}
