import { OAuthError } from './errors.js';

/**
 * Request parameters as single strings. RFC 6749 §3.1 / §3.2: parameters must not be included
 * more than once; empty values count as absent. `except` names parameters the caller reads
 * itself (those that may repeat, such as RFC 8707 `resource`); they are left out.
 */
export function singleParams(source: unknown, except?: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  const s = source as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (except?.has(k)) continue;
    const v = s[k];
    if (Array.isArray(v)) throw new OAuthError('invalid_request', `parameter ${k} is repeated`);
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}
