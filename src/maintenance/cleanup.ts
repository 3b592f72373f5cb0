// The cleanup job (issue 8, point 4): every CLEANUP_INTERVAL seconds, rows past their life are
// deleted in batches of CLEANUP_BATCH_SIZE (what each table keeps: src/repositories/cleanup.ts).
// A PostgreSQL advisory lock lets one instance at a time do it; the others skip that turn.
import type { FastifyBaseLogger } from 'fastify';
import type { Env } from '../config/env.js';
import type { Db } from '../db/index.js';
import { CleanupRepository, type CleanupCounts, type RetentionPolicy } from '../repositories/cleanup.js';

export type CleanupResult = { ran: true; deleted: CleanupCounts } | { ran: false; reason: 'busy' | 'locked' | 'stopped' | 'failed' };

export function retentionPolicy(env: Env): RetentionPolicy {
  return {
    batchSize: env.CLEANUP_BATCH_SIZE,
    loginWindowSeconds: env.LOGIN_LOCK_SECONDS,
    accountFailureDays: env.LOGIN_ACCOUNT_FAILURE_DAYS,
    knownAddressDays: env.LOGIN_KNOWN_ADDRESS_DAYS,
    auditDays: env.AUDIT_RETENTION_DAYS,
  };
}

export class CleanupJob {
  private readonly repo: CleanupRepository;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CleanupResult> | undefined;
  private stopped = false;

  constructor(
    private readonly env: Env,
    db: Db,
    private readonly log: FastifyBaseLogger,
  ) {
    this.repo = new CleanupRepository(db);
  }

  /** Runs every CLEANUP_INTERVAL seconds; the timer does not keep the process alive. */
  start(): void {
    this.timer = setInterval(() => void this.run(), this.env.CLEANUP_INTERVAL * 1000).unref();
  }

  /**
   * One run. Not two at once in one process (`busy`), nor on two instances of one database
   * (`locked`: another holds the advisory lock). Failures are logged, never thrown.
   */
  async run(): Promise<CleanupResult> {
    if (this.stopped) return { ran: false, reason: 'stopped' };
    if (this.running) return { ran: false, reason: 'busy' };
    this.running = this.once().finally(() => (this.running = undefined));
    return this.running;
  }

  private async once(): Promise<CleanupResult> {
    const started = Date.now();
    try {
      const deleted = await this.repo.deletePastLife(retentionPolicy(this.env), () => this.stopped);
      if (!deleted) {
        this.log.debug('cleanup skipped: another instance holds the lock');
        return { ran: false, reason: 'locked' };
      }
      const total = Object.values(deleted).reduce((a, b) => a + b, 0);
      const line = { deleted: Object.fromEntries(Object.entries(deleted).filter(([, n]) => n > 0)), ms: Date.now() - started };
      if (total > 0) this.log.info(line, 'cleanup deleted rows past their life');
      else this.log.debug(line, 'cleanup found nothing to delete');
      return { ran: true, deleted };
    } catch (e) {
      this.log.warn({ err: e }, 'cleanup failed');
      return { ran: false, reason: 'failed' };
    }
  }

  /** Stops the timer and waits for a run in progress to finish its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
