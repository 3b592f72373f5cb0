// Which errors are an outage (503 and Retry-After; waited out at start) and which are a setting
// or a bug (a wrong password or database name stops the start at once; anything else is a 500),
// and the two timeouts' settings.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../src/config/env.js';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';

const sqlError = (code: string, message = 'x') => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('an outage or not', () => {
  it.each([
    ['connection refused', systemError('ECONNREFUSED')],
    ['connection reset', systemError('ECONNRESET')],
    ['a host that does not resolve yet', systemError('EAI_AGAIN')],
    ['every address of a name refusing', new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')])],
    ['the pool giving up connecting', new Error('timeout exceeded when trying to connect')],
    ['a connect timeout, with its cause', new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') })],
    ['a connection lost', new Error('Connection terminated unexpectedly')],
    ['no answer to a query', new Error('Query read timeout')],
    ['PostgreSQL shutting down (57P01)', sqlError('57P01', 'terminating connection due to administrator command')],
    ['PostgreSQL starting up (57P03)', sqlError('57P03', 'the database system is starting up')],
    ['statement_timeout (57014)', sqlError('57014', 'canceling statement due to statement timeout')],
    ['too many connections (53300)', sqlError('53300')],
    ['a connection failure (class 08)', sqlError('08006')],
  ])('%s is an outage', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a wrong password (28P01)', sqlError('28P01', 'password authentication failed for user "postgres"')],
    ['an unknown database (3D000)', sqlError('3D000', 'database "nope" does not exist')],
    ['a unique violation (23505)', sqlError('23505')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s is not', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('DATABASE_CONNECT_TIMEOUT and DATABASE_QUERY_TIMEOUT', () => {
  it('default to 3 and 5 seconds and take whole seconds', () => {
    expect(loadEnv({})).toMatchObject({ DATABASE_CONNECT_TIMEOUT: 3, DATABASE_QUERY_TIMEOUT: 5 });
    expect(loadEnv({ DATABASE_CONNECT_TIMEOUT: '10', DATABASE_QUERY_TIMEOUT: '30' })).toMatchObject({ DATABASE_CONNECT_TIMEOUT: 10, DATABASE_QUERY_TIMEOUT: 30 });
  });

  it('refuse anything else with one line naming the variable', () => {
    expect(() => loadEnv({ DATABASE_QUERY_TIMEOUT: '0' })).toThrow(new ConfigError('environment: DATABASE_QUERY_TIMEOUT: must be a whole number of seconds from 1 to 600'));
    expect(() => loadEnv({ DATABASE_CONNECT_TIMEOUT: 'soon' })).toThrow(new ConfigError('environment: DATABASE_CONNECT_TIMEOUT: must be a whole number of seconds from 1 to 600'));
  });
});
