// OIDC Core §8.1 and OIDC Registration §5: a pairwise client's sector_identifier_uri is a JSON
// array of URLs that must list every redirect URI the client registered. It is fetched when the
// registry is loaded (at start); a missing redirect URI, or a document that cannot be read,
// stops the start with one line naming the client and the field.
import { z } from 'zod';
import type { ClientConfig } from './clients.js';
import { ConfigError } from './env.js';

const SECTOR_DOCUMENT = z.array(z.string());
const FETCH_TIMEOUT_MS = 5_000;

async function sectorProblem(uri: string, redirectUris: string[]): Promise<string | undefined> {
  let body: unknown;
  try {
    // a redirect is not followed: the document is at the registered URL or nowhere
    const res = await fetch(uri, { redirect: 'manual', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (res.status !== 200) return `${uri} answered HTTP ${res.status}, not 200 with a JSON array`;
    body = await res.json();
  } catch (e) {
    const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : e instanceof SyntaxError ? 'not JSON' : 'cannot be fetched';
    return `${uri}: ${why}`;
  }
  const parsed = SECTOR_DOCUMENT.safeParse(body);
  if (!parsed.success) return `${uri} must be a JSON array of URL strings`;
  const missing = redirectUris.find((u) => !parsed.data.includes(u));
  return missing === undefined ? undefined : `${uri} does not list the redirect URI ${missing} (OIDC Core section 8.1)`;
}

/** Fetches every sector_identifier_uri of the registry and checks it; throws ConfigError on the first problem. */
export async function checkSectorIdentifiers(clients: ClientConfig[], file: string): Promise<void> {
  const problems = await Promise.all(clients.map((c) => (c.sector_identifier_uri ? sectorProblem(c.sector_identifier_uri, c.redirect_uris) : undefined)));
  const i = problems.findIndex((p) => p !== undefined);
  if (i >= 0) throw new ConfigError(`${file}: clients[${i}].sector_identifier_uri: ${problems[i]}`);
}
