// npm run bench:signing: how fast can this machine sign access tokens, per algorithm, three ways?
//
//   jose          new SignJWT(...).sign(CryptoKey): WebCrypto, which hands each signature to
//                 libuv's thread pool (4 threads by default), so the main thread stays free
//   crypto.sign   node:crypto.sign(hash, data, KeyObject): synchronous, on the main thread
//   crypto.sign cb  the same with a callback: Node runs it in the thread pool as WebCrypto does;
//                 what the server signs with (src/crypto/jws-sign.ts)
//
// Each way signs the same RFC 9068 header and claims as the server (src/oauth/tokens.ts), with
// BENCH_CONCURRENCY (32, the connections of npm run bench) signatures in flight, as the server
// has under load. It prints tokens/s and the main thread's busy time per token (event loop
// utilisation x wall time / tokens): on the server that thread also parses and answers every
// request, so its time is what a signing method takes from HTTP. Rounds alternate the order of
// the ways; the medians are printed. BENCH_SIGNING_N (per measurement; default 2,000 for RSA,
// 10,000 otherwise), BENCH_SIGNING_ROUNDS (3).
import { KeyObject, sign } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { nodeSignParams, signJwt } from '../src/crypto/jws-sign.js';
import { randomToken } from '../src/crypto/random.js';
import { keyGenerationOptions, SIGNING_ALGS, type SigningAlg } from '../src/crypto/signing-algs.js';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_SIGNING_ROUNDS ?? 3);

function claims() {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'http://localhost:3000', sub: 'service', aud: ['https://api.example.com', 'https://other.example.com'], client_id: 'service', iat: now, exp: now + 3600, jti: randomToken(16), scope: 'invoices:read invoices:write' };
}

type Signer = () => Promise<unknown> | unknown;

function ways(alg: SigningAlg, privateKey: CryptoKey, kid: string): Record<string, { signer: Signer; concurrent: boolean }> {
  const header = { alg, kid, typ: 'at+jwt' };
  const keyObject = KeyObject.from(privateKey);
  const { hash, key } = nodeSignParams(alg, keyObject);
  return {
    jose: { signer: () => new SignJWT(claims()).setProtectedHeader(header).sign(privateKey), concurrent: true },
    'crypto.sign': {
      signer: () => {
        const data = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}`;
        return `${data}.${sign(hash, Buffer.from(data), key).toString('base64url')}`;
      },
      concurrent: false,
    },
    // what the server runs (src/crypto/jws-sign.ts)
    'crypto.sign cb': { signer: () => signJwt(header, claims(), keyObject), concurrent: true },
  };
}

async function measure(signer: Signer, concurrent: boolean, n: number): Promise<{ perSecond: number; mainUs: number }> {
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  if (concurrent) {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await signer();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } else {
    for (let i = 0; i < n; i++) signer();
  }
  const seconds = (performance.now() - start) / 1000;
  const busy = performance.eventLoopUtilization(elu);
  // a synchronous loop never yields, so the event loop cannot count it: it is all main thread
  const mainSeconds = concurrent ? busy.utilization * seconds : seconds;
  return { perSecond: n / seconds, mainUs: (mainSeconds / n) * 1e6 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const started = new Date().toISOString();
  console.log(`JWT signing: ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node ${process.version}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
  console.log(`${started}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${CONCURRENCY} in flight, ${ROUNDS} rounds, medians\n`);
  console.log(`${'alg'.padEnd(6)} ${'way'.padEnd(15)} ${'tokens/s'.padStart(9)} ${'main thread µs/token'.padStart(21)}`);
  for (const alg of SIGNING_ALGS) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...keyGenerationOptions(alg) });
    const n = Number(process.env.BENCH_SIGNING_N ?? (alg === 'RS256' || alg === 'PS256' ? 2_000 : 10_000));
    const all = ways(alg, privateKey, randomToken(12));
    const names = Object.keys(all);
    // warm-up: a tenth of a measurement each
    for (const name of names) await measure(all[name]!.signer, all[name]!.concurrent, Math.ceil(n / 10));
    const results = new Map<string, { perSecond: number; mainUs: number }[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const m = await measure(all[name]!.signer, all[name]!.concurrent, n);
        results.set(name, [...(results.get(name) ?? []), m]);
      }
    }
    for (const name of names) {
      const ms = results.get(name)!;
      console.log(`${alg.padEnd(6)} ${name.padEnd(15)} ${median(ms.map((m) => m.perSecond)).toFixed(0).padStart(9)} ${median(ms.map((m) => m.mainUs)).toFixed(1).padStart(21)}`);
    }
  }
  console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
