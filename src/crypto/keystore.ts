// The keystore: signing keys live in the database (private parts sealed under SECRET_KEY), so
// every instance on one PostgreSQL signs with and publishes the same keys. Each instance keeps
// an in-memory copy, refreshed in the background once it is older than RELOAD_MS
// (src/db/refresh-ahead.ts) and whenever a token names a kid it does not know
// (throttled), so a rotation on one instance reaches the others without a restart.
//
// A rotated-in key is published at once but signs only from its activation time, a publication
// delay later (longer than relying parties cache the JWKS), so no relying party sees a kid it
// has not fetched. The activation time is in the cached rows, so the switch is decided at sign
// time without asking the database.
//
// Each algorithm in use (src/crypto/signing-algs.ts) has its own keys: init() and ensure() add a
// first key for an algorithm that has none, under that algorithm's advisory lock, so instances
// starting or reloading the registry together add one.
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { ConfigError } from '../config/env.js';
import { RefreshAhead } from '../db/refresh-ahead.js';
import type { KeysRepository, RotationTimes } from '../repositories/keys.js';
import { signJwt, type JwsHeader } from './jws-sign.js';
import { randomToken } from './random.js';
import type { SecretBox } from './secret-box.js';
import { keyGenerationOptions, SIGNING_ALGS, type SigningAlg } from './signing-algs.js';

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  /** when it starts signing (epoch ms) */
  activatesAt: number;
  publicJwk: JWK;
  publicKey: CryptoKey;
  /** imported by jose, signed with by node:crypto (src/crypto/jws-sign.ts) */
  privateKey: KeyObject;
}

export interface KeystoreOptions {
  /** SECRET_KEY_PREVIOUS: keys sealed under it still open, and init() reseals them under SECRET_KEY */
  previousBox?: SecretBox | undefined;
  /** the clock that decides whether a published key signs yet (epoch ms; tests move it) */
  now?: (() => number) | undefined;
}

export class Keystore {
  static readonly RELOAD_MS = 60_000;
  private keys = new Map<string, LoadedKey>();
  /** per algorithm, its published keys, the latest activation first */
  private byAlg = new Map<SigningAlg, LoadedKey[]>();
  private readonly refresher = new RefreshAhead(() => this.load(), Keystore.RELOAD_MS);
  private lastMissReload = 0;
  /** first keys being added (ensure), so that concurrent callers wait for the same one */
  private readonly adding = new Map<SigningAlg, Promise<void>>();
  private readonly previousBox: SecretBox | undefined;
  private readonly now: () => number;

  constructor(
    private readonly repo: KeysRepository,
    private readonly box: SecretBox,
    opts: KeystoreOptions = {},
  ) {
    this.previousBox = opts.previousBox;
    this.now = opts.now ?? Date.now;
  }

  /** Reseals keys left under SECRET_KEY_PREVIOUS, makes sure each algorithm of `algs` has a key (first start), then loads them. */
  async init(algs: readonly SigningAlg[]): Promise<void> {
    if (this.previousBox) await this.resealUnderCurrent(this.previousBox);
    for (const alg of algs) await this.repo.insertIfNoActive(alg, () => this.generate(alg));
    await this.reload();
  }

  /**
   * Adds a first key for each algorithm of `algs` that has none yet (a client registered with a
   * new algorithm), then loads it. Safe with several instances: the insert holds the algorithm's
   * advisory lock and inserts only when no instance has (KeysRepository.insertIfNoActive).
   */
  async ensure(algs: readonly SigningAlg[]): Promise<void> {
    const missing = algs.filter((alg) => !this.byAlg.get(alg)?.length);
    await Promise.all(missing.map((alg) => this.addFirstKey(alg)));
  }

  private addFirstKey(alg: SigningAlg): Promise<void> {
    let adding = this.adding.get(alg);
    if (!adding) {
      adding = this.repo
        .insertIfNoActive(alg, () => this.generate(alg))
        .then(() => this.reload())
        .finally(() => this.adding.delete(alg));
      this.adding.set(alg, adding);
    }
    return adding;
  }

  /**
   * SECRET_KEY rotation: every private key that opens only under the previous SECRET_KEY is
   * sealed again under the current one, in one transaction. Idempotent: a key that already opens
   * under the current SECRET_KEY is left alone, so a second instance or a restart changes nothing.
   */
  private async resealUnderCurrent(previous: SecretBox): Promise<void> {
    await this.repo.resealAll((kid, sealed) => {
      if (open(this.box, sealed) !== undefined) return undefined;
      const plain = open(previous, sealed);
      if (plain === undefined)
        throw new ConfigError(`environment: SECRET_KEY_PREVIOUS: signing key ${kid} opens under neither SECRET_KEY nor SECRET_KEY_PREVIOUS; set SECRET_KEY_PREVIOUS to the SECRET_KEY it was sealed with`);
      return this.box.seal(plain);
    });
  }

  private async generate(alg: SigningAlg) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { ...keyGenerationOptions(alg), extractable: true });
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
    const byAlg = new Map<SigningAlg, LoadedKey[]>();
    for (const row of rows) {
      const alg = row.alg as SigningAlg;
      const existing = this.keys.get(row.kid);
      const key: LoadedKey = existing ?? {
        kid: row.kid,
        alg,
        activatesAt: new Date(row.activates_at).getTime(),
        publicJwk: row.public_jwk as JWK,
        publicKey: (await importJWK(row.public_jwk as JWK, alg)) as CryptoKey,
        // a node:crypto KeyObject straight from the JWK, for signing (src/crypto/jws-sign.ts); not
        // through a WebCrypto CryptoKey, whose KeyObject.from() Node 24 deprecates (DEP0204)
        privateKey: createPrivateKey({ key: JSON.parse(this.openPrivate(row.kid, row.private_jwk_encrypted)) as JsonWebKey, format: 'jwk' }),
      };
      next.set(key.kid, key);
      // rows come latest activation first (KeysRepository.published)
      const ofAlg = byAlg.get(alg) ?? [];
      ofAlg.push(key);
      byAlg.set(alg, ofAlg);
    }
    this.keys = next;
    this.byAlg = byAlg;
  }

  private openPrivate(kid: string, sealed: string): string {
    // a key that an instance not yet restarted sealed under SECRET_KEY_PREVIOUS still opens
    const opened = open(this.box, sealed) ?? (this.previousBox && open(this.previousBox, sealed));
    if (opened !== undefined) return opened;
    throw new Error(`signing key ${kid} cannot be decrypted: SECRET_KEY is not the one it was sealed with`);
  }

  /**
   * The key that signs now: of the published keys of `alg`, the one activated last. A key
   * still in its publication delay does not sign yet. If the clock says none has activated (this
   * host's clock behind the database's right after a first start), the earliest one signs: no
   * relying party can have seen an older key of this algorithm.
   */
  private signingKey(alg: SigningAlg): LoadedKey | undefined {
    const keys = this.byAlg.get(alg) ?? [];
    const now = this.now();
    return keys.find((k) => k.activatesAt <= now) ?? keys.at(-1);
  }

  /**
   * Adds the next key of `alg`: published at once, signing after `times.delaySeconds`; the key it
   * replaces stays published `times.publishSeconds` after that (the longest token lifetime).
   */
  async rotate(alg: SigningAlg, times: RotationTimes): Promise<string> {
    const k = await this.generate(alg);
    await this.repo.rotate(alg, k, times);
    await this.reload();
    return k.kid;
  }

  /** Rotates `alg` as `rotate` does, only if its newest key is older than `maxAgeDays`; returns the new kid, if any. */
  async rotateIfOlderThan(alg: SigningAlg, maxAgeDays: number, times: RotationTimes): Promise<string | undefined> {
    const kid = await this.repo.rotateIfOlderThan(alg, maxAgeDays, () => this.generate(alg), times);
    if (kid) await this.reload();
    return kid;
  }

  /**
   * The public JWK Set (RFC 7517 §5): every published key, never a private member. Read from the
   * database on each call, so a key another instance just added is published here at once; the
   * cached copy answers while the database cannot.
   */
  async jwks(): Promise<{ keys: JWK[] }> {
    try {
      await this.reload();
    } catch (e) {
      if (!this.keys.size) throw e;
    }
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  async sign(payload: JWTPayload, opts: { alg: SigningAlg; typ?: string }): Promise<string> {
    const first = this.refresher.due();
    if (first) await first;
    let key = this.signingKey(opts.alg);
    if (!key) {
      // an algorithm that came into use after the last ensure (a registry reloaded elsewhere)
      await this.ensure([opts.alg]);
      key = this.signingKey(opts.alg);
    }
    if (!key) throw new Error(`no active signing key for ${opts.alg}`);
    const header: JwsHeader = { alg: opts.alg, kid: key.kid };
    if (opts.typ) header.typ = opts.typ;
    return signJwt(header, payload, key.privateKey);
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
      { algorithms: [...SIGNING_ALGS], ...opts },
    );
  }
}

/** The plaintext, or undefined when `sealed` was not sealed under this box's key. */
function open(box: SecretBox, sealed: string): string | undefined {
  try {
    return box.open(sealed);
  } catch {
    return undefined;
  }
}
