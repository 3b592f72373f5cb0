// Delivering queued logout tokens (Back-Channel Logout 1.0 §2.5): POSTed as
// application/x-www-form-urlencoded `logout_token=...` to the client's backchannel_logout_uri.
// Each attempt has a timeout; a failure is retried later with a doubling delay, until
// BACKCHANNEL_LOGOUT_MAX_ATTEMPTS. The queue is a table, so a restart or another instance
// finishes what this one started; rows are claimed atomically (repositories/backchannel-logout.ts).
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { LogoutDelivery } from '../../repositories/backchannel-logout.js';
import { signLogoutToken } from './logout-token.js';

/** How often an idle worker looks for rows queued by other instances or left by one that died. */
const POLL_MS = 10_000;
/** Deliveries in flight at once per instance. */
const CONCURRENCY = 16;
/** The longest wait between two attempts. */
const MAX_RETRY_DELAY_MS = 3_600_000;

type Outcome = { ok: true } | { ok: false; error: string; retry: boolean };

/**
 * §2.8: the RP answers 200 (or 204) when it logged out, 400 when the token was bad. 5xx, 408 and
 * 429 are worth another try; any other answer would only be given again.
 */
function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return { ok: true };
  return { ok: false, error: `HTTP ${status}`, retry: status >= 500 || status === 408 || status === 429 };
}

export class BackchannelLogoutWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly timeoutMs: number;

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
  ) {
    this.timeoutMs = ctx.env.BACKCHANNEL_LOGOUT_TIMEOUT * 1000;
  }

  /** Looks for due deliveries now (after a logout queued some), without waiting for them. */
  wake(): void {
    this.schedule(0);
  }

  /** Stops looking, cuts deliveries in flight short (they are retried later) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.shutdown.abort();
    await this.running;
    await Promise.allSettled([...this.inflight]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), ms);
    this.timer.unref();
  }

  private run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump()
      .then(() => (this.again ? 0 : this.nextWakeMs()))
      .catch((e: unknown) => {
        this.log.warn({ err: e }, 'back-channel logout: reading the queue failed');
        return POLL_MS;
      })
      .then((ms) => {
        this.running = undefined;
        this.again = false;
        this.schedule(ms);
      });
  }

  private async nextWakeMs(): Promise<number> {
    const due = await this.ctx.repos.backchannelLogout.msUntilNextDue();
    return Math.min(due ?? POLL_MS, POLL_MS);
  }

  /** Claims due rows while there is room, and starts their deliveries. */
  private async pump(): Promise<void> {
    // a claim outlives the attempt, so only a worker that died lets it lapse
    const leaseMs = 2 * this.timeoutMs + 10_000;
    while (!this.stopped && this.inflight.size < CONCURRENCY) {
      const rows = await this.ctx.repos.backchannelLogout.claim(CONCURRENCY - this.inflight.size, leaseMs);
      if (!rows.length) return;
      for (const row of rows) {
        const p: Promise<void> = this.deliver(row)
          .catch((e: unknown) => this.log.warn({ err: e, client_id: row.client_id }, 'back-channel logout: recording a delivery failed'))
          .finally(() => {
            this.inflight.delete(p);
            this.wake();
          });
        this.inflight.add(p);
      }
    }
  }

  private async deliver(row: LogoutDelivery): Promise<void> {
    const repo = this.ctx.repos.backchannelLogout;
    const client = await this.ctx.clients.get(row.client_id);
    // the client was disabled, or no longer registers a back-channel logout URI
    if (!client?.backchannel_logout_uri) return repo.remove(row.id);
    const outcome = await this.post(client.backchannel_logout_uri, await signLogoutToken(this.ctx, client, row));
    if (outcome.ok) {
      this.log.info({ client_id: row.client_id, attempts: row.attempts }, 'back-channel logout delivered');
      return repo.remove(row.id);
    }
    if (outcome.retry && row.attempts < this.ctx.env.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS) {
      const delayMs = Math.min(this.ctx.env.BACKCHANNEL_LOGOUT_RETRY_DELAY * 1000 * 2 ** (row.attempts - 1), MAX_RETRY_DELAY_MS);
      this.log.warn({ client_id: row.client_id, attempts: row.attempts, error: outcome.error, retry_in_s: Math.round(delayMs / 1000) }, 'back-channel logout failed; will retry');
      return repo.retryLater(row.id, delayMs, outcome.error);
    }
    this.log.warn({ client_id: row.client_id, attempts: row.attempts, error: outcome.error }, 'back-channel logout given up');
    await this.ctx.repos.audit.record({ event: 'backchannel_logout_failed', client_id: row.client_id, sub: row.sub, detail: { attempts: row.attempts, error: outcome.error } });
    return repo.remove(row.id);
  }

  private async post(uri: string, logoutToken: string): Promise<Outcome> {
    try {
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: logoutToken }),
        // a redirect is an answer of its own, not followed (the token goes to the registered URL only)
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.shutdown.signal]),
      });
      await res.body?.cancel();
      return outcomeOf(res.status);
    } catch (e) {
      if (this.shutdown.signal.aborted) return { ok: false, error: 'cut short: the server was shutting down', retry: true };
      if (e instanceof Error && e.name === 'TimeoutError') return { ok: false, error: `no answer within ${this.ctx.env.BACKCHANNEL_LOGOUT_TIMEOUT} s`, retry: true };
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      return { ok: false, error: `cannot connect${typeof code === 'string' ? ` (${code})` : ''}`, retry: true };
    }
  }
}
