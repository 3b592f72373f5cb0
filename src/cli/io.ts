// What every command needs from the outside world: output, prompts, the environment and the
// database. The real process supplies them (index.ts); tests pass their own.
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadEnv, type Env } from '../config/env.js';
import { migrate, openDatabase, type Db } from '../db/index.js';
import { poolTimeouts } from '../db/pg-pool.js';

/** A refusal the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** asks for one line; `hidden` does not echo it on a terminal */
  ask: (question: string, opts?: { hidden?: boolean; confirm?: boolean }) => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** opens the server's database (tests hand in theirs); the returned close never drops data */
  openDb: (env: Env) => Promise<{ db: Db; close: () => Promise<void> }>;
}

/** Opens the database the server uses (DATABASE_URL, else PGlite in DATA_DIR) and migrates it. */
export async function openServerDatabase(env: Env): Promise<{ db: Db; close: () => Promise<void> }> {
  if (!env.DATABASE_URL && env.DATA_DIR === 'memory://')
    throw new CliError('DATA_DIR is memory://: the server keeps nothing there, so there is nothing to change; set DATA_DIR or DATABASE_URL');
  let db: Db | undefined;
  try {
    db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, poolSize: 2, timeouts: poolTimeouts(env) });
    await migrate(db);
  } catch (e) {
    await db?.destroy().catch(() => {});
    throw new CliError(`database: ${(e as Error).message}`);
  }
  const opened = db;
  return { db: opened, close: () => opened.destroy() };
}

/** Environment checks as at server start, so the CLI works on the same database with the same keys. */
export function cliEnv(io: CliIO): Env {
  return loadEnv(io.env);
}

export async function withDatabase<T>(io: CliIO, fn: (db: Db, env: Env) => Promise<T>): Promise<T> {
  const env = cliEnv(io);
  const { db, close } = await io.openDb(env);
  try {
    return await fn(db, env);
  } finally {
    await close();
  }
}

/** node:util parseArgs with errors turned into one clear line. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new CliError((e as Error).message.split('\n')[0]!);
  }
}

/**
 * Prompts on stderr (stdout stays clean for output such as `users hash`), reading lines from
 * stdin; works on a terminal and with piped input. On a terminal, hidden answers are not echoed.
 */
export function terminalPrompter(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr) {
  let muted = false;
  // readline echoes what is typed through its output stream; muting that stream hides a password
  const echo = new Writable({
    write(chunk, encoding, done) {
      if (!muted) output.write(chunk, encoding);
      done();
    },
  });
  let rl: Interface | undefined;
  let lines: AsyncIterator<string> | undefined;

  const askOnce = async (question: string, hidden: boolean): Promise<string> => {
    if (!rl) {
      rl = createInterface({ input, output: echo, terminal: !!input.isTTY });
      rl.on('SIGINT', () => {
        output.write('\n');
        process.exit(130);
      });
      lines = rl[Symbol.asyncIterator]();
    }
    output.write(question);
    muted = hidden && !!input.isTTY;
    try {
      const next = await lines!.next();
      if (next.done) throw new CliError(`no answer to "${question.trim()}" (stdin closed); pass it as a flag instead`);
      return next.value;
    } finally {
      if (muted) output.write('\n');
      muted = false;
    }
  };

  return {
    async ask(question: string, opts: { hidden?: boolean; confirm?: boolean } = {}): Promise<string> {
      const answer = await askOnce(question, opts.hidden ?? false);
      // a hidden answer typed on a terminal is asked twice, since a typo cannot be seen
      if (opts.confirm && opts.hidden && input.isTTY) {
        const again = await askOnce('Repeat: ', true);
        if (again !== answer) throw new CliError('the two entries do not match');
      }
      return answer;
    },
    close() {
      rl?.close();
    },
  };
}

export { ConfigError };
