// The Prometheus metrics of one app (README "Metrics"), on a registry of its own: tests build many
// apps in one process, and prom-client's global registry would mix their counts.
//
// Requests pay for one histogram observation; every label child is made once and reused, so a
// counted event is a lookup and an increment. What the database knows (pending device codes,
// signing key age) and what the pool knows (connections, errors) is read at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CredentialsResult } from '../authentication/credentials.js';
import type { Db } from '../db/index.js';
import { dbMonitor, type PoolUse } from '../db/monitor.js';
import { grantHandlers } from '../oauth/grants/index.js';
import type { Client } from '../repositories/clients.js';
import { MetricsRepository } from '../repositories/metrics.js';

/** Where a username and password were checked. */
export type LoginVia = 'login_page' | 'password_grant';
/** success, failure (wrong username or password), or why else the check refused: locked, ... */
type LoginOutcome = 'success' | 'failure' | Exclude<Extract<CredentialsResult, { ok: false }>['reason'], 'invalid'>;
type ClientAuthMethod = Client['token_endpoint_auth_method'];

/** The route label of requests that matched no route: a fixed value, never the path asked for. */
export const UNMATCHED_ROUTE = '(unmatched)';
/** A scrape answers even while the database hangs; what it could not read is left out (NaN). */
const SCRAPE_QUERY_TIMEOUT_MS = 2_000;

type Observer = (method: string, status: number, seconds: number) => void;
type RequestLabels = 'method' | 'route' | 'status_code';

export class Metrics {
  readonly registry = new Registry();
  private readonly requestDuration: Histogram<RequestLabels>;
  private readonly tokensIssued = new Map<string, Counter.Internal>();
  private readonly clientAuthFailures: Counter<'route' | 'method'>;
  private readonly logins: Counter<'via' | 'outcome'>;
  private readonly loginChildren = new Map<string, Counter.Internal>();
  private readonly refreshTokenReuse: Counter;

  constructor(db: Db) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    // the request count per route and status is this histogram's _count
    this.requestDuration = new Histogram({
      name: 'oauth_http_request_duration_seconds',
      help: 'Time from receiving a request to the end of its answer, by method, route pattern and status',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });

    const tokens = new Counter({ name: 'oauth_tokens_issued_total', help: 'Successful token responses at /token, by grant_type', labelNames: ['grant_type'], registers });
    for (const grantType of grantHandlers.keys()) {
      const child = tokens.labels(grantType);
      child.inc(0); // every grant type shows from the first scrape
      this.tokensIssued.set(grantType, child);
    }

    this.clientAuthFailures = new Counter({
      name: 'oauth_client_auth_failures_total',
      help: 'Refused client authentications (invalid_client), by route and the method the client attempted',
      labelNames: ['route', 'method'],
      registers,
    });

    this.logins = new Counter({
      name: 'oauth_logins_total',
      help: 'Username and password checks, by where (login_page, password_grant) and outcome (success, failure, locked)',
      labelNames: ['via', 'outcome'],
      registers,
    });
    for (const via of ['login_page', 'password_grant'] as const) for (const outcome of ['success', 'failure', 'locked'] as const) this.loginChild(via, outcome).inc(0);

    this.refreshTokenReuse = new Counter({
      name: 'oauth_refresh_token_reuse_total',
      help: 'Rotated refresh tokens presented again; each ends its grant (RFC 9700 §4.14.2)',
      registers,
    });

    // the pool first: a scrape reads every metric at once, and so the pool's figures are taken
    // before the database gauges' own queries take a connection
    this.poolMetrics(db, registers);
    this.databaseGauges(new MetricsRepository(db), registers);
  }

  /** The observer of one route pattern; its label children are made once per method and status. */
  requestObserver(route: string): Observer {
    const byMethod = new Map<string, Map<number, Histogram.Internal<RequestLabels>>>();
    return (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) byMethod.set(method, (byStatus = new Map()));
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = this.requestDuration.labels(method, route, String(status))));
      child.observe(seconds);
    };
  }

  tokenIssued(grantType: string): void {
    this.tokensIssued.get(grantType)?.inc();
  }

  clientAuthFailed(route: string, method: ClientAuthMethod): void {
    this.clientAuthFailures.labels(route, method).inc();
  }

  /** Counts the answer of checkCredentials (src/authentication/credentials.ts) where it is asked. */
  credentialsChecked(via: LoginVia, result: CredentialsResult): void {
    this.loginChild(via, result.ok ? 'success' : result.reason === 'invalid' ? 'failure' : result.reason).inc();
  }

  refreshTokenReused(): void {
    this.refreshTokenReuse.inc();
  }

  private loginChild(via: LoginVia, outcome: LoginOutcome): Counter.Internal {
    const key = `${via} ${outcome}`;
    let child = this.loginChildren.get(key);
    if (!child) this.loginChildren.set(key, (child = this.logins.labels(via, outcome)));
    return child;
  }

  /** Gauges read from the database when scraped (MetricsRepository). */
  private databaseGauges(repo: MetricsRepository, registers: Registry[]): void {
    new Gauge({
      name: 'oauth_device_codes_pending',
      help: 'Device authorization requests (RFC 8628) waiting for the user, unexpired, on the whole database',
      registers,
      async collect() {
        this.set(await withinTimeout(repo.pendingDeviceCodes()).catch(() => NaN));
      },
    });
    new Gauge({
      name: 'oauth_signing_key_age_seconds',
      help: 'Seconds since the signing key of each algorithm was made',
      labelNames: ['alg'],
      registers,
      async collect() {
        const ages = await withinTimeout(repo.signingKeyAges()).catch(() => []);
        this.reset();
        for (const { alg, age_seconds } of ages) this.labels(alg).set(age_seconds);
      },
    });
  }

  /** The connection pool (pg Pool; PGlite: one connection) and the database errors it saw (src/db/monitor.ts). */
  private poolMetrics(db: Db, registers: Registry[]): void {
    const monitor = dbMonitor(db);
    if (!monitor) return;
    const poolGauge = (name: string, help: string, read: (u: PoolUse) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(monitor.use()));
        },
      });
    poolGauge('oauth_db_pool_max_connections', 'Connections the database pool may open (PGlite: 1)', (u) => u.max);
    poolGauge('oauth_db_pool_connections', 'Database connections open', (u) => u.open);
    poolGauge('oauth_db_pool_idle_connections', 'Open database connections no query holds', (u) => u.idle);
    poolGauge('oauth_db_pool_waiting_requests', 'Queries waiting for a database connection', (u) => u.waiting);
    new Counter({
      name: 'oauth_db_errors_total',
      help: 'Database errors: connect (no connection could be had), query (a query failed), idle_client (an idle pooled connection broke)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(monitor.errors)) this.labels(kind).inc(n);
      },
    });
  }
}

/** `p`, or a rejection once SCRAPE_QUERY_TIMEOUT_MS have passed. */
async function withinTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), SCRAPE_QUERY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
