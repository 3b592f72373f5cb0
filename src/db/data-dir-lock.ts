// PGlite is PostgreSQL in one process with no lock of its own: a second process opening the
// same DATA_DIR (a CLI command while the server runs, a second server) would write to the
// same files unseen and corrupt them. A pid file refuses that, as PostgreSQL's postmaster.pid does.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'oauth-server.pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data directory for this process; returns the release function. Throws if a live process holds it. */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      const release = () => {
        process.off('exit', release);
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        continue; // released meanwhile
      }
      // the same pid is a leftover of an earlier run (a container restarts as pid 1 again)
      if (pid > 0 && pid !== process.pid && isAlive(pid))
        throw new Error(`${dir} is in use by process ${pid}; PGlite allows one process at a time (stop it, or use DATABASE_URL)`);
      try {
        unlinkSync(file); // stale: its process is gone
      } catch {
        // another process removed it first
      }
    }
  }
  throw new Error(`cannot lock ${dir}`);
}
