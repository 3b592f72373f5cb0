// The admin command line: `npm run cli -- <command>` (tsx), or `node dist/src/cli/index.js <command>`.
// Reads .env like the server and opens the same database. A refusal is one line on stderr and
// exit code 1, never a stack trace.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { readDotEnv } from '../bootstrap.js';
import { ConfigError } from '../config/env.js';
import { clientsCheck, clientsSchema, clientsSync } from './clients.js';
import { CliError, openServerDatabase, terminalPrompter, type CliIO } from './io.js';
import { keysList, keysRotate } from './keys.js';
import { usersAdd, usersHash, usersSetPassword } from './users.js';

type Command = (args: string[], io: CliIO) => void | Promise<void>;

const COMMANDS: Record<string, { run: Command; usage: string; help: string }> = {
  'clients check': { run: clientsCheck, usage: 'clients check [FILE] [--production]', help: 'validate a client registry (default: CLIENTS_FILE) without starting' },
  'clients sync': { run: clientsSync, usage: 'clients sync', help: 'sync CLIENTS_FILE and USERS_FILE to the database now, as SIGHUP does; running servers on PostgreSQL pick it up' },
  'clients schema': { run: clientsSchema, usage: 'clients schema', help: 'print the registry JSON Schema (config/clients.schema.json)' },
  'keys rotate': { run: keysRotate, usage: 'keys rotate [--alg RS256|ES256]', help: 'add a new signing key (default: every algorithm), published at once, signing after KEY_PUBLICATION_DELAY_SECONDS; old keys stay published until their tokens expire' },
  'keys list': { run: keysList, usage: 'keys list', help: 'list the published signing keys' },
  'users add': { run: usersAdd, usage: 'users add [--username U] [--password P] [--sub S] [--name N] [--email E]', help: 'add a user; asks for a missing username or password' },
  'users set-password': { run: usersSetPassword, usage: 'users set-password USERNAME [--password P]', help: "change a user's password; asks when --password is not given" },
  'users hash': { run: usersHash, usage: 'users hash [--password P]', help: 'print an argon2id hash for password_hash in USERS_FILE' },
};

export function helpText(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    'usage: npm run cli -- <command> [options]',
    '',
    'commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.help}`),
    '',
    'The commands that touch the database use the server\'s settings (.env, DATABASE_URL or DATA_DIR, SECRET_KEY).',
    'On PGlite, stop the server first: only one process may open DATA_DIR at a time.',
  ].join('\n');
}

/** Runs one command; returns the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    io.out(helpText());
    return argv.length === 0 ? 1 : 0;
  }
  const name = `${argv[0]} ${argv[1] ?? ''}`.trim();
  const command = COMMANDS[name];
  try {
    if (!command) throw new CliError(`unknown command "${name}" (npm run cli -- --help lists the commands)`);
    await command.run(argv.slice(2), io);
    return 0;
  } catch (e) {
    if (e instanceof CliError || e instanceof ConfigError) io.err(`error: ${e.message}`);
    else io.err(`error: ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

async function main(): Promise<void> {
  readDotEnv();
  const prompter = terminalPrompter();
  const io: CliIO = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    ask: (q, opts) => prompter.ask(q, opts),
    env: process.env,
    openDb: openServerDatabase,
  };
  const code = await runCli(process.argv.slice(2), io);
  prompter.close();
  process.exitCode = code;
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(realpathSync(entry)).href) void main();
