// A relying party's back-channel logout endpoint for tests: a real node:http server on a free
// port that records each POST and answers as the test says (200, another status, or not at all).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  contentType: string | undefined;
  /** the form body's fields */
  form: URLSearchParams;
  /** true once the sender gave up on this request (closed it before an answer) */
  abandoned: boolean;
}

/** What to answer one request: a status, or 'hang' (hold it until the sender gives up). */
export type Answer = number | 'hang';

export class Receiver {
  readonly received: Received[] = [];
  /** answers for the next requests, in order; then `otherwise` */
  readonly answers: Answer[] = [];
  otherwise: Answer = 200;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private waiters: { count: number; resolve: () => void }[] = [];
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests in all have arrived. */
  until(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const r: Received = { path: req.url ?? '', contentType: req.headers['content-type'], form: new URLSearchParams(body), abandoned: false };
    this.received.push(r);
    const answer = this.answers.shift() ?? this.otherwise;
    res.on('close', () => {
      if (!res.writableFinished) r.abandoned = true;
    });
    this.waiters = this.waiters.filter((w) => (this.received.length >= w.count ? (w.resolve(), false) : true));
    if (answer !== 'hang') res.writeHead(answer).end();
  }
}

/** Polls `check` until it holds (deliveries happen in the background); fails after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
