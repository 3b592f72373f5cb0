// Environment variables: defaults from INTERFACE.md, and one clear line for a bad value.
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { configRefusal } from './refusal.js';

const SECRET_KEY = 'k'.repeat(32);

const refusal = (env: NodeJS.ProcessEnv) => configRefusal(() => loadEnv(env), 'the environment');

describe('environment', () => {
  it('has the defaults of INTERFACE.md', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      ISSUER: 'http://localhost:3000',
      DATA_DIR: './data',
      CLIENTS_FILE: 'config/clients.json',
      USERS_FILE: 'config/users.json',
      LOG_LEVEL: 'info',
      ACCESS_TOKEN_TTL: 3600,
      ID_TOKEN_TTL: 3600,
      REFRESH_TOKEN_TTL: 1209600,
      AUTHORIZATION_CODE_TTL: 60,
      DEVICE_CODE_TTL: 600,
      production: false,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.SECRET_KEY).toBeUndefined();
    expect(loadEnv({ PORT: '8080' }).ISSUER).toBe('http://localhost:8080');
    // an empty variable counts as unset (docker-compose passes empty ones)
    expect(loadEnv({ PORT: '', ISSUER: '' }).ISSUER).toBe('http://localhost:3000');
  });

  it('refuses a bad PORT, naming it', () => {
    expect(refusal({ PORT: 'abc' })).toBe('environment: PORT: must be a port number from 0 to 65535');
    expect(refusal({ PORT: '70000' })).toBe('environment: PORT: must be a port number from 0 to 65535');
  });

  it('refuses bad TTLs, ISSUER, DATABASE_URL and LOG_LEVEL values', () => {
    expect(refusal({ ACCESS_TOKEN_TTL: '-1' })).toBe('environment: ACCESS_TOKEN_TTL: must be a whole number of seconds from 1 to 31536000');
    expect(refusal({ ISSUER: 'ftp://example.com' })).toBe('environment: ISSUER: must be an http(s) URL');
    expect(refusal({ ISSUER: 'https://example.com/?tenant=1' })).toBe('environment: ISSUER: must not have a query or fragment (RFC 8414 §2)');
    expect(refusal({ DATABASE_URL: 'mysql://x' })).toBe('environment: DATABASE_URL: must be a postgres:// URL');
    expect(refusal({ LOG_LEVEL: 'loud' })).toMatch(/^environment: LOG_LEVEL: /);
  });

  it('reads REQUIRE_PUSHED_AUTHORIZATION_REQUESTS as a boolean (off by default, "false" is off) and refuses other words', () => {
    expect(loadEnv({}).REQUIRE_PUSHED_AUTHORIZATION_REQUESTS).toBe(false);
    expect(loadEnv({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'false' }).REQUIRE_PUSHED_AUTHORIZATION_REQUESTS).toBe(false);
    expect(loadEnv({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true' }).REQUIRE_PUSHED_AUTHORIZATION_REQUESTS).toBe(true);
    expect(refusal({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'maybe' })).toBe('environment: REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: must be true or false');
    expect(loadEnv({}).PUSHED_AUTHORIZATION_REQUEST_TTL).toBe(60);
    expect(refusal({ PUSHED_AUTHORIZATION_REQUEST_TTL: '0' })).toBe('environment: PUSHED_AUTHORIZATION_REQUEST_TTL: must be a whole number of seconds from 1 to 31536000');
  });

  it('drops a trailing slash from ISSUER, so endpoint URLs have no double slash', () => {
    expect(loadEnv({ ISSUER: 'https://id.example.com/' }).ISSUER).toBe('https://id.example.com');
  });

  it('refuses a SECRET_KEY under 32 characters', () => {
    expect(refusal({ SECRET_KEY: 'short' })).toBe('environment: SECRET_KEY: must be at least 32 characters');
  });

  describe('NODE_ENV=production', () => {
    it('refuses a non-https ISSUER', () => {
      expect(refusal({ NODE_ENV: 'production', ISSUER: 'http://id.example.com', SECRET_KEY })).toBe('environment: ISSUER must be https:// in production');
      // the default issuer is http://localhost, so production must set one
      expect(refusal({ NODE_ENV: 'production', SECRET_KEY })).toBe('environment: ISSUER must be https:// in production');
    });

    it('refuses a missing SECRET_KEY', () => {
      expect(refusal({ NODE_ENV: 'production', ISSUER: 'https://id.example.com' })).toBe(
        'environment: SECRET_KEY is required in production (32+ random characters)',
      );
    });

    it('starts with https ISSUER and SECRET_KEY, and creates no users unless told to', () => {
      const env = loadEnv({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', SECRET_KEY });
      expect(env.production).toBe(true);
      expect(env.USERS_FILE).toBeUndefined();
      expect(loadEnv({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', SECRET_KEY, USERS_FILE: 'u.json' }).USERS_FILE).toBe('u.json');
    });
  });
});

describe('.env.example', () => {
  it('documents every variable the server reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { envSchema } = await import('../../src/config/env.js');
    const example = readFileSync('.env.example', 'utf8');
    const names = Object.keys(envSchema.in.shape);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(example, name).toMatch(new RegExp(`^# ${name}=`, 'm'));
  });
});
