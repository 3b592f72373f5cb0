// In-memory copies of database rows that every request reads (the client registry, the signing
// keys) are refreshed from the database now and then, so that a change made by another instance
// reaches this one without a restart. The request that finds the copy old does not wait for the
// refresh: it uses the copy it has while one refresh runs in the background (stale while
// revalidate). Only the very first load is waited for. Without this, every request that arrived
// during a refresh started its own (a herd of identical queries) and waited on the database, on
// the token endpoint's hot path.

const RETRY_MS = 1_000;

export class RefreshAhead {
  private loadedAt = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly load: () => Promise<void>,
    private readonly maxAgeMs: number,
  ) {}

  /**
   * Loads now and waits for it: after a write that the copy must show. A load that was already
   * running may have read the rows before that write, so it is waited out and a new one started.
   */
  async reload(): Promise<void> {
    if (this.running) await this.running.catch(() => {});
    await this.start();
  }

  /** Starts a load, or joins the one running. */
  private start(): Promise<void> {
    this.running ??= this.load().then(
      () => {
        this.loadedAt = Date.now();
        this.running = undefined;
      },
      (e: unknown) => {
        this.running = undefined;
        throw e;
      },
    );
    return this.running;
  }

  /**
   * Call before reading the copy. Returns a promise to wait for only when there is no copy yet;
   * an old copy starts a background refresh and is used meanwhile.
   */
  due(): Promise<void> | undefined {
    if (Date.now() - this.loadedAt <= this.maxAgeMs) return undefined;
    if (this.loadedAt === 0) return this.start();
    // A failed background refresh (the database away for a moment) keeps the old copy, which
    // stays right until an administrator changes something, and is tried again a second later
    // rather than on every request; /readyz is where a lost database shows.
    this.start().catch(() => {
      this.loadedAt = Math.max(this.loadedAt, Date.now() - this.maxAgeMs + RETRY_MS);
    });
    return undefined;
  }
}
