// The record of one playground run, kept in the browser as encrypted cookies (JWE, dir +
// A256GCM, under a key derived from SECRET_KEY) rather than in a process: any instance can read
// it, nothing is left in the database, and the person who ran the flow is the only one who
// holds it. It carries the tokens the run obtained, which is why it is encrypted, HttpOnly and
// limited to /playground. Deflated first; split over a few cookies (4 KB each, RFC 6265 §6.1).
import { hkdfSync } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { z } from 'zod';
import { stepSchema } from './steps.js';

export const FLOWS = ['web', 'spa', 'implicit', 'client-credentials', 'device', 'password'] as const;
export type Flow = (typeof FLOWS)[number];

export const runSchema = z.object({
  flow: z.enum(FLOWS),
  client_id: z.string(),
  /** values the app keeps between redirects (OAuth 2.0 §10.12 state, OIDC nonce, RFC 7636 verifier, RFC 8628 device code) */
  pending: z
    .object({
      state: z.string().optional(),
      nonce: z.string().optional(),
      code_verifier: z.string().optional(),
      device_code: z.string().optional(),
      user_code: z.string().optional(),
      verification_uri: z.string().optional(),
      verification_uri_complete: z.string().optional(),
      interval: z.number().optional(),
    })
    .default({}),
  tokens: z.object({ access_token: z.string().optional(), id_token: z.string().optional(), refresh_token: z.string().optional() }).default({}),
  steps: z.array(stepSchema),
  /** steps left out of the record because the cookies were full */
  dropped: z.number().int().default(0),
});
export type Run = z.infer<typeof runSchema>;

export const COOKIE = 'playground_run';
const PATH = '/playground';
const CHUNK = 3800;
const MAX_CHUNKS = 3; // with the other cookies, well inside Node's 16 KB of request headers

function keyOf(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'oauth-server', 'playground-run-record', 32));
}

export class RunStore {
  private readonly keys: Uint8Array[];
  constructor(
    secretKeys: readonly string[],
    private readonly secure: boolean,
  ) {
    this.keys = secretKeys.map(keyOf);
  }

  async read(request: FastifyRequest): Promise<Run | undefined> {
    const parts: string[] = [];
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const part = request.cookies[`${COOKIE}_${i}`];
      if (!part) break;
      parts.push(part);
    }
    if (!parts.length) return undefined;
    // the current key first, then SECRET_KEY_PREVIOUS during a rotation
    for (const key of this.keys) {
      try {
        const { plaintext } = await compactDecrypt(parts.join(''), key);
        const parsed = runSchema.safeParse(JSON.parse(inflateRawSync(plaintext).toString('utf8')));
        return parsed.success ? parsed.data : undefined;
      } catch {
        // another key, or a cookie that is not ours: no run
      }
    }
    return undefined;
  }

  async write(reply: FastifyReply, run: Run): Promise<void> {
    let jwe = await this.seal(run);
    // too big: the oldest steps go, and the page says how many
    while (jwe.length > CHUNK * MAX_CHUNKS && run.steps.length > 1) {
      run = { ...run, steps: run.steps.slice(1), dropped: run.dropped + 1 };
      jwe = await this.seal(run);
    }
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const part = jwe.slice(i * CHUNK, (i + 1) * CHUNK);
      if (part) reply.setCookie(`${COOKIE}_${i}`, part, { path: PATH, httpOnly: true, sameSite: 'lax', secure: this.secure });
      else reply.clearCookie(`${COOKIE}_${i}`, { path: PATH });
    }
  }

  private seal(run: Run): Promise<string> {
    return new CompactEncrypt(deflateRawSync(JSON.stringify(run))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(this.keys[0]!);
  }
}
