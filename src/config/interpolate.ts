// `${NAME}` inside any string of a config file is replaced by the environment variable NAME.
// A missing variable is an error that names where it was used.
import type { z } from 'zod';
import { ConfigError, formatIssues } from './env.js';

export interface Interpolated {
  value: unknown;
  errors: string[];
}

export function interpolate(value: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const errors: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
        const found = env[name];
        if (found === undefined || found === '') {
          errors.push(`${path || '(root)'}: environment variable ${name} is not set`);
          return '';
        }
        return found;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, path ? `${path}.${k}` : k)]));
    return v;
  };
  return { value: walk(value, ''), errors };
}

/**
 * A config file's text, parsed as JSON, with `${NAME}` replaced, checked against `schema`.
 * Every problem is one ConfigError line that starts with the file's name.
 */
export function parseConfigFile<S extends z.ZodType>(text: string, file: string, schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const interpolated = interpolate(raw, env);
  if (interpolated.errors.length) throw new ConfigError(`${file}: ${interpolated.errors.join('; ')}`);
  const parsed = schema.safeParse(interpolated.value);
  if (!parsed.success) throw new ConfigError(`${file}: ${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}

