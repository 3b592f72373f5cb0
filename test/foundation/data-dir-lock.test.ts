// Only one process may open a PGlite DATA_DIR: PGlite itself does not check.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js';
import { openDatabase } from '../../src/db/index.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'datadir-'));

describe('DATA_DIR lock', () => {
  it('is taken with our pid and released', () => {
    const d = dir();
    const release = lockDataDir(d);
    expect(readFileSync(path.join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
  });

  it('refuses a directory a live process holds, naming it', async () => {
    const d = dir();
    // the test runner's parent process is alive for the whole test
    writeFileSync(path.join(d, LOCK_FILE), `${process.ppid}\n`);
    expect(() => lockDataDir(d)).toThrow(`${d} is in use by process ${process.ppid}; PGlite allows one process at a time (stop it, or use DATABASE_URL)`);
    // openDatabase refuses before PGlite touches the files
    await expect(openDatabase({ dataDir: d })).rejects.toThrow(`is in use by process ${process.ppid}`);
    expect(readFileSync(path.join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });

  it('takes over a lock left by a process that is gone (a crash)', () => {
    const d = dir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(path.join(d, LOCK_FILE), `${gone}\n`);
    const release = lockDataDir(d);
    expect(readFileSync(path.join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
