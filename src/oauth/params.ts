import { OAuthError } from './errors.js';

/**
 * Request parameters as single strings. RFC 6749 §3.1 / §3.2: parameters must not be included
 * more than once; empty values count as absent.
 */
export function singleParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new OAuthError('invalid_request', `parameter ${k} is repeated`);
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}
