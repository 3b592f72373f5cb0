// Measures startup-to-ready of the server: wall-clock time from spawning the command to the
// "ready" log line, and the ready_ms the server logs (time since its node process started).
//
//   node docs/measure-startup.mjs [runs=3] [-- command...]      default command: npm start
//   node docs/measure-startup.mjs 3 -- node dist/src/main.js
//
// Each run does a first start on an empty DATA_DIR (PGlite runs initdb), then a restart on it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const runs = Number(args[0] && args[0] !== '--' ? args[0] : 3);
const command = dash >= 0 ? args.slice(dash + 1) : ['npm', 'start'];

function once(dataDir) {
  return new Promise((resolve, reject) => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const t0 = performance.now();
    const child = spawn(command[0], command.slice(1), {
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so npm's children stop with it
    });
    let out = '';
    let result;
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"ready_ms":(\d+)/.exec(out);
      if (m && !result) {
        result = { wall_ms: Math.round(performance.now() - t0), ready_ms: Number(m[1]) };
        process.kill(-child.pid, 'SIGTERM');
      }
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', () => (result ? setTimeout(() => resolve(result), 200) : reject(new Error(err || 'exited before ready'))));
  });
}

const rows = [];
for (let i = 0; i < runs; i++) {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'startup-')), 'data');
  rows.push({ start: 'first (empty DATA_DIR)', ...(await once(dir)) });
  rows.push({ start: 'restart', ...(await once(dir)) });
  rmSync(path.dirname(dir), { recursive: true, force: true });
}
console.log(`command: ${command.join(' ')}`);
console.table(rows.sort((a, b) => a.start.localeCompare(b.start)));
