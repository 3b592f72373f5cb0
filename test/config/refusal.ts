// The one line a config check refuses with: the message of the ConfigError that `load` throws.
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/env.js';

export function configRefusal(load: () => unknown, what: string): string {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`${what} was accepted`);
}
