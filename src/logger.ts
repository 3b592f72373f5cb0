// pino options: JSON logs with request ids and never a secret (authorization headers, cookies,
// passwords, tokens, codes). Query strings are logged with sensitive values replaced.
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type LogFn } from 'pino';
import type { Env } from './config/env.js';

const SENSITIVE_PARAMS = [
  'code', 'code_verifier', 'access_token', 'refresh_token', 'id_token', 'id_token_hint', 'token',
  'client_secret', 'client_assertion', 'password', 'device_code', 'user_code', 'login_hint', 'state', 'nonce',
  // a request object (RFC 9101) carries state, nonce and hints; a request_uri (RFC 9126) stands for a request
  'request', 'request_uri',
];

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of SENSITIVE_PARAMS) if (params.has(name)) params.set(name, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/**
 * Where the logs go: stdout, written synchronously in blocks of about 4 KiB, and at least every
 * 250 ms and at exit. pino's default destination writes asynchronously, through libuv's thread
 * pool, which on the token endpoint is busy signing tokens; writing blocks from the main thread
 * instead gave /token 4-5 % more throughput, paired rounds against the default
 * (docs/BENCHMARKS.md). What a crash can lose is what it could lose before: lines not yet written
 * (at most 4 KiB or 250 ms; the asynchronous default also holds lines back while a write is in
 * flight). A normal exit, an uncaught exception and a shutdown write everything.
 */
let stdout: ReturnType<typeof pino.destination> | undefined;
export function logDestination(): DestinationStream {
  if (!stdout) {
    const destination = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: 250 });
    process.on('exit', () => {
      try {
        destination.flushSync();
      } catch {
        // stdout is gone (a closed pipe): nothing left to write to
      }
    });
    stdout = destination;
  }
  return stdout;
}

/** Writes out the lines held back, now: after a line someone is waiting for (ready). */
export function flushLogs(): void {
  stdout?.flush();
}

/**
 * What a log line may say about a request and its answer is an allow-list: the serializers keep
 * the method, the url with secret query values replaced, the address and the status, and
 * nothing else (no headers, so no Authorization or Cookie; no body, so no password or secret).
 * pino applies them to every line that carries `req` or `res`, including a route's own. An
 * allow-list needs no redaction paths, which cost a selective clone on every line.
 */
export function loggerOptions(env: Pick<Env, 'LOG_LEVEL'>) {
  return {
    level: env.LOG_LEVEL,
    serializers: {
      // the request id is already on every line as reqId
      req(req: { method: string; url: string; ip?: string }) {
        return { method: req.method, url: redactUrl(req.url), ip: req.ip };
      },
      res(res: { statusCode: number }) {
        return { statusCode: res.statusCode };
      },
    },
  };
}

/**
 * One log line per request instead of Fastify's two ("incoming request" and "request completed"):
 * the completed line carries the request (method, redacted url, ip), the status and the time.
 * Request logging costs CPU on every call of the hot path (client_credentials at /token), and
 * the incoming line adds nothing the completed one lacks; see docs/BENCHMARKS.md. The line is
 * written through the server's logger with the request id as a field: the same line the
 * request's child logger would write, without making that child (see RequestLogger).
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const log = request.server.log;
    const line = { [this.requestIdLogLabel]: request.id, req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) log.error({ ...line, err: error }, 'request errored');
    else log.info(line, 'request completed');
  }
}

type LogArgs = Parameters<LogFn>;

/**
 * request.log, made when a request first logs a line of its own. Fastify asks for a pino child
 * logger bound to the request id on every request, and making one costs about a microsecond;
 * most requests (every token request that succeeds) never log anything but the completed line,
 * which RequestLog writes without it. Used as Fastify's childLoggerFactory.
 */
export class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get log(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.log.level;
  }
  set level(level: string) {
    this.log.level = level;
  }
  fatal(...args: LogArgs): void {
    this.log.fatal(...args);
  }
  error(...args: LogArgs): void {
    this.log.error(...args);
  }
  warn(...args: LogArgs): void {
    this.log.warn(...args);
  }
  info(...args: LogArgs): void {
    this.log.info(...args);
  }
  debug(...args: LogArgs): void {
    this.log.debug(...args);
  }
  trace(...args: LogArgs): void {
    this.log.trace(...args);
  }
  silent(...args: LogArgs): void {
    this.log.silent(...args);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.log.child(bindings, options);
  }
}

export const requestLoggerFactory = (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
  new RequestLogger(logger, bindings, options);
