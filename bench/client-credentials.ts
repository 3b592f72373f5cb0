// npm run bench: client_credentials throughput of the real server against a ceiling.
//
// Two targets, each a child process, measured the same way by autocannon running in this
// (third) process, so no target shares its event loop with the load generator:
//   server   src/main.ts as `npm start` runs it (development mode, the demo registry
//            config/clients.json, LOG_LEVEL as set, default info, logs discarded), on PGlite in
//            memory, and also on PostgreSQL when DATABASE_URL is set
//   ceiling  bench/ceiling.ts: a bare Fastify route that checks the same SHA-256 secret and signs
//            an equal JWT (same algorithm, header and claims), nothing else
// once per access token algorithm of BENCH_ALGS (default RS256,ES256; ACCESS_TOKEN_SIGNING_ALG of
// both targets), each server judged against the ceiling of its own algorithm.
// Each target is warmed up once (BENCH_WARMUP seconds); then each round loads every target for
// BENCH_DURATION seconds, back to back, alternating their order. The medians of BENCH_RUNS rounds
// are reported, and the verdict is the median of the per-round ratios (see the end of main).
//
// Settings (environment): BENCH_ALGS (RS256,ES256), BENCH_DURATION (5 s), BENCH_WARMUP (3 s),
// BENCH_CONNECTIONS (32), BENCH_RUNS (15), LOG_LEVEL (info), DATABASE_URL (adds a PostgreSQL run; note that, like
// `npm start`, the server migrates that database and syncs the demo registry into it).
// BENCH_METRICS=1 measures what metrics cost instead: the server with metrics on (METRICS_PORT)
// against the same server with metrics off, in paired rounds judged the same way (target: 97 %).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { registryEnv } from '../src/bootstrap.js';
import { loadRegistry, type ClientConfig } from '../src/config/clients.js';
import { loadEnv } from '../src/config/env.js';
import { SIGNING_ALGS, type SigningAlg } from '../src/crypto/signing-algs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const LOG_LEVEL = process.env.LOG_LEVEL ?? 'info';
const CLIENTS_FILE = process.env.CLIENTS_FILE ?? 'config/clients.json';
// BENCH_BUILD=1: the compiled server (npm run build; node dist/src/main.js, as the Docker image
// runs it) instead of src/main.ts under tsx (npm start)
const SERVER_SCRIPT = process.env.BENCH_BUILD === '1' ? 'dist/src/main.js' : 'src/main.ts';
const METRICS = process.env.BENCH_METRICS === '1';
// the access token algorithms measured, each server against a reference signing with the same one
const ALGS = (process.env.BENCH_ALGS ?? 'RS256,ES256').split(/[\s,]+/).filter(Boolean) as SigningAlg[];
const unknownAlg = ALGS.find((a) => !SIGNING_ALGS.includes(a));
if (unknownAlg !== undefined || !ALGS.length) throw new Error(`BENCH_ALGS: ${unknownAlg ?? '(empty)'} is not one of ${SIGNING_ALGS.join(', ')}`);
/** What the last target must reach of the reference (the ceiling, or the server without metrics). */
const GOAL = METRICS ? 0.97 : 0.8;
const REFERENCE = METRICS ? 'metrics off' : 'ceiling';

interface Target {
  name: string;
  url: string;
  child: ChildProcess;
  /** where Prometheus would scrape this target (metrics on) */
  metricsUrl?: string;
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  /** CPU time the target process spent per request (all its threads), when /proc can tell */
  cpuMs?: number | undefined;
}

/**
 * CPU seconds a process has used so far (user + system, all threads), from /proc on Linux.
 * CPU per request depends much less on what else runs on the machine than req/s does.
 */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // the fields after the command name, which sits in parentheses and may contain spaces
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
// USER_HZ: 100 on every Linux architecture Node runs on
const CLOCK_TICKS = 100;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The demo client the benchmark authenticates as: the first client_credentials client with client_secret_basic. */
function benchClient(): ClientConfig & { client_secret: string } {
  // ${ISSUER} in the registry (the playground's redirect URIs) is the issuer the server runs with
  const clients = loadRegistry(CLIENTS_FILE, { production: false, env: registryEnv(process.env, loadEnv(process.env)) });
  const c = clients.find((x) => x.grant_types.includes('client_credentials') && x.token_endpoint_auth_method === 'client_secret_basic' && x.client_secret);
  if (!c) throw new Error(`${CLIENTS_FILE} has no client_credentials client with client_secret_basic`);
  return c as ClientConfig & { client_secret: string };
}

async function startChild(name: string, script: string, env: Record<string, string>, port: number): Promise<Target> {
  // compiled JavaScript runs as is; TypeScript through tsx, as npm start does
  const child = spawn(process.execPath, script.endsWith('.js') ? [script] : ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    // logs are discarded: the cost of writing them is measured, not of a terminal scrolling
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr.trim()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start within 120 s: ${stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { name, url, child };
}

async function stop(t: Target): Promise<void> {
  if (t.child.exitCode !== null) return;
  t.child.kill('SIGTERM');
  await Promise.race([once(t.child, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
  if (t.child.exitCode === null) t.child.kill('SIGKILL');
}

function request(c: ClientConfig & { client_secret: string }) {
  return {
    method: 'POST' as const,
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  };
}

/** One request, to check both targets answer the same shape before loading them. */
async function probe(t: Target, c: ClientConfig & { client_secret: string }): Promise<{ header: string[]; claims: string[] }> {
  const r = request(c);
  const res = await fetch(`${t.url}/token`, { method: r.method, headers: r.headers, body: r.body });
  if (res.status !== 200) throw new Error(`${t.name} answered ${res.status}: ${await res.text()}`);
  const { access_token } = (await res.json()) as { access_token: string };
  const [h, p] = access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
  return { header: Object.keys(h!).sort(), claims: Object.keys(p!).sort() };
}

async function load(t: Target, c: ClientConfig & { client_secret: string }, seconds: number): Promise<Measurement> {
  const cpuBefore = cpuSeconds(t.child.pid);
  // one scrape per measurement (every 10 s or so of the bench, Prometheus's default is 15 s)
  const scraped = t.metricsUrl ? fetch(t.metricsUrl).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${t.name}: /metrics answered ${r.status}`)))) : undefined;
  const r = await autocannon({ url: `${t.url}/token`, ...request(c), connections: CONNECTIONS, duration: seconds });
  const cpuAfter = cpuSeconds(t.child.pid);
  await scraped;
  if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers and ${r.errors} errors under load`);
  const cpuMs = cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) * 1000) / r.requests.total : undefined;
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, cpuMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function summarize(ms: Measurement[]): Measurement {
  const cpu = ms.map((m) => m.cpuMs).filter((x): x is number => x !== undefined);
  return { rps: median(ms.map((m) => m.rps)), p50: median(ms.map((m) => m.p50)), p99: median(ms.map((m) => m.p99)), cpuMs: cpu.length ? median(cpu) : undefined };
}

const cpuText = (m: Measurement) => (m.cpuMs === undefined ? '' : `${m.cpuMs.toFixed(3)} ms`);

interface Group {
  alg: SigningAlg;
  /** the targets measured against the last one, the reference */
  targets: Target[];
}

async function startGroup(alg: SigningAlg, c: ClientConfig & { client_secret: string }): Promise<Group> {
  const servers: { name: string; env: Record<string, string> }[] = [{ name: 'server (PGlite)', env: { DATA_DIR: 'memory://', DATABASE_URL: '' } }];
  if (process.env.DATABASE_URL) servers.push({ name: 'server (PostgreSQL)', env: { DATABASE_URL: process.env.DATABASE_URL } });
  // metrics on, then the same server with metrics off as the reference (METRICS_PORT unset)
  const metricsPort = await freePort();
  if (METRICS) servers.splice(0, servers.length, { name: 'metrics on', env: { ...servers.at(-1)!.env, METRICS_PORT: String(metricsPort) } });
  const targets: Target[] = [];
  const group = { alg, targets };
  const named = (name: string) => (ALGS.length > 1 ? `${name} ${alg}` : name);
  // the server signs with `alg` (ACCESS_TOKEN_SIGNING_ALG), and so does its reference
  const common = { CLIENTS_FILE, LOG_LEVEL, ACCESS_TOKEN_SIGNING_ALG: alg };
  for (const s of servers) {
    const port = await freePort();
    targets.push(await startChild(named(s.name), SERVER_SCRIPT, { ...s.env, ...common, ISSUER: `http://localhost:${port}` }, port));
  }
  if (METRICS) targets[0]!.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  // the reference, last: the ceiling, or (BENCH_METRICS) the same server with metrics off
  const referencePort = await freePort();
  targets.push(
    METRICS
      ? await startChild(named('metrics off'), SERVER_SCRIPT, { ...servers[0]!.env, ...common, METRICS_PORT: '', ISSUER: `http://localhost:${referencePort}` }, referencePort)
      : await startChild(
          named('ceiling (bare Fastify)'),
          'bench/ceiling.ts',
          // the same issuer string length, client, scope, audience and algorithm as the server's tokens
          { ...common, ISSUER: `http://localhost:${referencePort}`, CLIENT_ID: c.client_id, CLIENT_SECRET: c.client_secret, SCOPE: c.scope, AUDIENCE: (c.audience.length ? c.audience : [c.client_id]).join(' ') },
          referencePort,
        ),
  );
  return group;
}

async function main(): Promise<void> {
  const c = benchClient();
  console.log(`client_credentials benchmark: ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`autocannon: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per target, ${RUNS} rounds; server ${SERVER_SCRIPT}, LOG_LEVEL=${LOG_LEVEL}; client ${c.client_id} (${CLIENTS_FILE}); access tokens ${ALGS.join(', ')}\n`);

  const results = new Map<string, Measurement[]>();
  const groups: Group[] = [];
  try {
    for (const alg of ALGS) groups.push(await startGroup(alg, c));
    for (const { targets } of groups) {
      const shapes = await Promise.all(targets.map((t) => probe(t, c)));
      for (const [i, s] of shapes.entries())
        if (JSON.stringify(s) !== JSON.stringify(shapes[0])) console.warn(`warning: ${targets[i]!.name} signs other members than ${targets[0]!.name}: ${JSON.stringify(s)} vs ${JSON.stringify(shapes[0])}`);
    }

    for (let round = 0; round < RUNS; round++) {
      // alternate the order so neither target always runs on a warmer (or hotter) machine; the
      // targets of one algorithm run back to back, so their ratio compares like with like
      for (const { targets } of round % 2 === 0 ? groups : [...groups].reverse()) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          // warm each target up once: after the first round both are warm, and every second
          // spent measuring instead adds a pair to the median below
          if (round === 0) await load(t, c, WARMUP);
          const m = await load(t, c, DURATION);
          results.set(t.name, [...(results.get(t.name) ?? []), m]);
          console.log(`round ${round + 1}  ${t.name.padEnd(36)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  CPU/request ${cpuText(m)}`);
        }
      }
    }
  } finally {
    await Promise.all(groups.flatMap((g) => g.targets).map(stop));
  }

  let worst = Infinity;
  let worstOfMedians = Infinity;
  for (const { alg, targets } of groups) {
    const referenceTarget = targets[targets.length - 1]!;
    const reference = summarize(results.get(referenceTarget.name)!);
    console.log(`\n${alg}: median of ${RUNS} rounds:`);
    console.log(`${'target'.padEnd(36)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}  ${`of ${REFERENCE}`.padStart(14)}  CPU/request`);
    for (const t of targets) {
      const m = summarize(results.get(t.name)!);
      const ratio = ((m.rps / reference.rps) * 100).toFixed(1);
      console.log(`${t.name.padEnd(36)} ${m.rps.toFixed(0).padStart(7)} ${String(m.p50).padStart(7)} ${String(m.p99).padStart(7)}  ${ratio.padStart(12)} %  ${cpuText(m)}`);
    }
    // Each round measures every target of an algorithm back to back, so the ratio within a round
    // compares them under the same conditions; on a shared machine its median is steadier than a
    // ratio of medians.
    const referenceRounds = results.get(referenceTarget.name)!;
    for (const t of targets.slice(0, -1)) {
      const ratios = results.get(t.name)!.map((m, i) => m.rps / referenceRounds[i]!.rps);
      const sorted = [...ratios].sort((a, b) => a - b);
      const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
      worst = Math.min(worst, median(ratios));
      worstOfMedians = Math.min(worstOfMedians, summarize(results.get(t.name)!).rps / reference.rps);
      console.log(`${t.name}: of ${REFERENCE} per round ${ratios.map(pct).join(', ')}`);
      console.log(`${t.name}: median of rounds ${pct(median(ratios))}, middle half ${pct(sorted[Math.floor((sorted.length - 1) / 4)]!)} - ${pct(sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!)}`);
    }
  }
  // The verdict uses the median of the per-round ratios: each round measures the targets back
  // to back, so a machine that speeds up or slows down between rounds (a shared VM does, by 20 %
  // and more) moves both; the ratio of the overall medians compares targets measured at
  // different times. Both are printed; the verdict is the worst over every algorithm.
  console.log(
    `\ntarget: ${METRICS ? 'metrics on' : 'server'} >= ${Math.round(GOAL * 100)} % of ${METRICS ? 'metrics off' : 'the ceiling'} (${ALGS.join(', ')}): ${worst >= GOAL ? 'met' : 'NOT met'} (${(worst * 100).toFixed(1)} %, median of the per-round ratios; ratio of the medians ${(worstOfMedians * 100).toFixed(1)} %)`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
