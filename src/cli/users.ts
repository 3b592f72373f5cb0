// `users add`, `users set-password USERNAME`, `users hash`.
import { z } from 'zod';
import { subSchema, type UserClaims } from '../config/users.js';
import { hashPassword } from '../crypto/password.js';
import { UsersRepository } from '../repositories/users.js';
import { CliError, parse, withDatabase, type CliIO } from './io.js';

/** Passwords set from the command line; NIST SP 800-63B asks for at least 8 characters. */
export const MIN_PASSWORD_LENGTH = 8;

function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) throw new CliError(`password: must be at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

async function passwordFrom(flag: string | undefined, io: CliIO): Promise<string> {
  return checkPassword(flag ?? (await io.ask('Password: ', { hidden: true, confirm: true })));
}

export async function usersAdd(args: string[], io: CliIO): Promise<void> {
  const { values } = parse(args, {
    username: { type: 'string' },
    password: { type: 'string' },
    sub: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
  });
  const username = (values.username ?? (await io.ask('Username: '))).trim();
  if (!username || username.length > 255) throw new CliError('username: must be 1 to 255 characters');
  if (values.sub !== undefined) {
    const sub = subSchema.safeParse(values.sub);
    if (!sub.success) throw new CliError(`sub: ${sub.error.issues[0]!.message}`);
  }
  if (values.email !== undefined && !z.email().safeParse(values.email).success) throw new CliError('email: not an email address');
  const password = await passwordFrom(values.password, io);

  await withDatabase(io, async (db) => {
    const users = new UsersRepository(db);
    if (await users.findByUsername(username)) throw new CliError(`user "${username}" already exists (change the password with: users set-password ${username})`);
    if (values.sub && (await users.findBySub(values.sub))) throw new CliError(`sub "${values.sub}" belongs to another user`);
    const claims: UserClaims = {
      preferred_username: username,
      ...(values.name ? { name: values.name } : {}),
      ...(values.email ? { email: values.email, email_verified: false } : {}),
    };
    const user = await users.upsert({ username, password_hash: await hashPassword(password), claims, sub: values.sub });
    io.out(`added user ${user.username} (sub ${user.sub})`);
  });
}

export async function usersSetPassword(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parse(args, { password: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new CliError('usage: users set-password USERNAME [--password PASSWORD]');
  const username = positionals[0]!;
  await withDatabase(io, async (db) => {
    const users = new UsersRepository(db);
    // look the user up before asking, so a typo in the name does not cost a password entry
    if (!(await users.findByUsername(username))) throw new CliError(`no user "${username}"`);
    const password = await passwordFrom(values.password, io);
    await users.setPassword(username, await hashPassword(password));
    io.out(`password of ${username} changed`);
  });
}

/** Prints an argon2id hash for USERS_FILE's password_hash (production refuses plaintext passwords there). */
export async function usersHash(args: string[], io: CliIO): Promise<void> {
  const { values } = parse(args, { password: { type: 'string' } });
  io.out(await hashPassword(await passwordFrom(values.password, io)));
}
