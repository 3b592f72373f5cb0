// Which database errors mean "PostgreSQL cannot be reached right now" (the server is down,
// restarting, overloaded or cut off), as opposed to a bug or a wrong setting. Those answer 503
// with Retry-After instead of 500 (src/routes/unavailable.ts), and at start they are waited out
// instead of stopping it (src/db/wait-for-database.ts). A wrong password, an unknown database
// or user are not among them: waiting would not fix them.

/** Socket errors of a connection that could not be made or was lost (Node's error codes). */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  // name resolution: a database host whose name does not resolve yet (a container still starting)
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * PostgreSQL SQLSTATE codes (PostgreSQL documentation, Appendix A): class 08 connection
 * exception; 53300 too_many_connections; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
 * cannot_connect_now (starting up or shutting down); 57014 query_canceled, which this server
 * only causes through statement_timeout (DATABASE_QUERY_TIMEOUT).
 */
const SQLSTATES: ReadonlySet<string> = new Set(['53300', '57P01', '57P02', '57P03', '57014']);

/** What pg itself says when a connection fails or a timeout of ours fires (pg 8: client.js, pg-pool). */
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect$|Query read timeout$|timeout expired$|Client has encountered a connection error)/;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08'))) return true;
  if (PG_MESSAGES.test(error.message)) return true;
  // Node's connection attempts to each address of a name (happy eyeballs) fail together
  if (error instanceof AggregateError && error.errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(error.cause, depth + 1);
}
