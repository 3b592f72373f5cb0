// The keystore: signing keys live in the database (private parts sealed under SECRET_KEY), so
// every instance on one PostgreSQL signs with and publishes the same keys. Each instance keeps
// an in-memory copy, refreshed in the background once it is older than RELOAD_MS
// (src/db/refresh-ahead.ts) and whenever a token names a kid it does not know
// (throttled), so a rotation on one instance reaches the others without a restart.
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyOptions, type JWTHeaderParameters } from 'jose';
import { RefreshAhead } from '../db/refresh-ahead.js';
import type { KeysRepository } from '../repositories/keys.js';
import { randomToken } from './random.js';
import type { SecretBox } from './secret-box.js';

export const SUPPORTED_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SUPPORTED_ALGS)[number];

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  active: boolean;
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

export class Keystore {
  static readonly RELOAD_MS = 60_000;
  private keys = new Map<string, LoadedKey>();
  private signing = new Map<SigningAlg, LoadedKey>();
  private readonly refresher = new RefreshAhead(() => this.load(), Keystore.RELOAD_MS);
  private lastMissReload = 0;

  constructor(
    private readonly repo: KeysRepository,
    private readonly box: SecretBox,
  ) {}

  /** Makes sure each algorithm has an active key (first start), then loads them. */
  async init(): Promise<void> {
    for (const alg of SUPPORTED_ALGS) await this.repo.insertIfNoActive(alg, () => this.generate(alg));
    await this.reload();
  }

  private async generate(alg: SigningAlg) {
    const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true });
    const kid = randomToken(12);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
    return { kid, public_jwk: publicJwk, private_jwk_encrypted: this.box.seal(JSON.stringify(privateJwk)) };
  }

  /** Reads the published keys from the database now, and waits for it. */
  reload(): Promise<void> {
    return this.refresher.reload();
  }

  private async load(): Promise<void> {
    const rows = await this.repo.published();
    const next = new Map<string, LoadedKey>();
    const signing = new Map<SigningAlg, LoadedKey>();
    for (const row of rows) {
      const alg = row.alg as SigningAlg;
      const existing = this.keys.get(row.kid);
      const key: LoadedKey = existing
        ? { ...existing, active: row.retired_at === null }
        : {
            kid: row.kid,
            alg,
            active: row.retired_at === null,
            publicJwk: row.public_jwk as JWK,
            publicKey: (await importJWK(row.public_jwk as JWK, alg)) as CryptoKey,
            privateKey: (await importJWK(JSON.parse(this.openPrivate(row.kid, row.private_jwk_encrypted)) as JWK, alg)) as CryptoKey,
          };
      next.set(key.kid, key);
      // rows come newest first: the first active key of an algorithm signs
      if (key.active && !signing.has(alg)) signing.set(alg, key);
    }
    this.keys = next;
    this.signing = signing;
  }

  private openPrivate(kid: string, sealed: string): string {
    try {
      return this.box.open(sealed);
    } catch {
      throw new Error(`signing key ${kid} cannot be decrypted: SECRET_KEY is not the one it was sealed with`);
    }
  }

  /** Adds a new active key for `alg`; the old ones stay published for `publishSeconds` (the longest token lifetime). */
  async rotate(alg: SigningAlg, publishSeconds: number): Promise<string> {
    const k = await this.generate(alg);
    await this.repo.rotate(alg, k, publishSeconds);
    await this.reload();
    return k.kid;
  }

  /** The public JWK Set (RFC 7517 §5): every published key, never a private member. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const first = this.refresher.due();
    if (first) await first;
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  async sign(payload: JWTPayload, opts: { alg: SigningAlg; typ?: string }): Promise<string> {
    const first = this.refresher.due();
    if (first) await first;
    const key = this.signing.get(opts.alg);
    if (!key) throw new Error(`no active signing key for ${opts.alg}`);
    const header: JWTHeaderParameters = { alg: opts.alg, kid: key.kid };
    if (opts.typ) header.typ = opts.typ;
    return new SignJWT(payload).setProtectedHeader(header).sign(key.privateKey);
  }

  /** Verifies a JWT signed by one of our published keys. Throws on any failure. */
  async verify(token: string, opts: JWTVerifyOptions) {
    const first = this.refresher.due();
    if (first) await first;
    return jwtVerify(
      token,
      async (header) => {
        let key = header.kid ? this.keys.get(header.kid) : undefined;
        if (!key && header.kid && Date.now() - this.lastMissReload > 5_000) {
          this.lastMissReload = Date.now();
          await this.reload();
          key = this.keys.get(header.kid);
        }
        if (!key || key.alg !== header.alg) throw new Error('unknown signing key');
        return key.publicKey;
      },
      { algorithms: [...SUPPORTED_ALGS], ...opts },
    );
  }
}
