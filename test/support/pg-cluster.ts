// A throwaway PostgreSQL cluster that a test starts, stops, freezes and removes itself: initdb
// under a temporary directory, pg_ctl, a free port on 127.0.0.1, trust authentication. Never the
// shared server on 5432. initdb and postgres refuse to run as root, so as root they run as the
// `postgres` system user, in a directory handed to it.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The PostgreSQL server binaries: pg_config's bindir, else the newest /usr/lib/postgresql/N/bin. */
function binDir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config on the PATH: look where Debian and Ubuntu install the server
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin): install postgresql');
  return path.join(root, versions[0], 'bin');
}

/** As root: the uid and gid of the postgres user, which initdb and postgres need. */
function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface Cluster {
  port: number;
  /** whether start() ran last (not stop()) */
  readonly running: boolean;
  /** postgres://postgres@127.0.0.1:port/<database> */
  url(database?: string): string;
  start(): void;
  /** a clean shutdown (pg_ctl -m fast): connections are closed, new ones refused */
  stop(): void;
  /** every server process stopped (SIGSTOP): connections open but nothing answers */
  freeze(): void;
  thaw(): void;
  /** stops the cluster if it runs and removes its directory */
  remove(): void;
}

export async function createCluster(): Promise<Cluster> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-cluster-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(path.join(bin, tool), args, { cwd: dir, encoding: 'utf8', ...(user ?? {}), env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  const processes = (): number[] => {
    const file = path.join(data, 'postmaster.pid');
    if (!existsSync(file)) return [];
    const postmaster = Number(readFileSync(file, 'utf8').split('\n')[0]);
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
    return [postmaster, ...children];
  };
  let running = false;
  const cluster: Cluster = {
    port,
    get running() {
      return running;
    },
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start() {
      // -w: returns once the server accepts connections
      run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, 'start']);
      running = true;
    },
    stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    freeze() {
      for (const pid of processes()) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of processes()) process.kill(pid, 'SIGCONT');
    },
    remove() {
      process.off('exit', cluster.remove);
      try {
        cluster.thaw();
        if (running) spawnSync(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...(user ?? {}), stdio: 'ignore' });
        running = false;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  // a test run that ends without its afterAll still leaves no server running and no directory
  process.on('exit', cluster.remove);
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C']);
  } catch (e) {
    cluster.remove();
    throw e;
  }
  return cluster;
}
