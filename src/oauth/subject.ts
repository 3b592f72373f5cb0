// Subject identifiers (OIDC Core §8): the `sub` a client sees. Public clients see the user's
// own sub; a pairwise client sees one of its sector's own (§8.1), so that clients of different
// sectors cannot correlate a user by sub. Access tokens, ID tokens, userinfo, introspection and
// logout tokens all carry the client's subject.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Client } from '../repositories/clients.js';

/** The setting that keeps the pairwise salt: made once, never changed (a pairwise sub must never change). */
export const PAIRWISE_SALT_SETTING = 'pairwise_salt';

/**
 * OIDC Core §8.1: the sector identifier is the host of the sector_identifier_uri when there is
 * one, else of the redirect URIs (the registry makes sure they share one host).
 */
export function sectorIdentifier(client: Pick<Client, 'sector_identifier_uri' | 'redirect_uris'>): string {
  const from = client.sector_identifier_uri ?? client.redirect_uris[0];
  if (from === undefined) throw new Error(`client has no sector: neither sector_identifier_uri nor redirect_uris`);
  return new URL(from).hostname;
}

/**
 * §8.1: sub = base64url(SHA-256(sector identifier || local sub || salt)), with a NUL between the
 * parts so that no two (sector, sub) pairs run together into the same input.
 */
export function pairwiseSubject(sector: string, localSub: string, salt: string): string {
  return createHash('sha256').update(`${sector}\0${localSub}\0${salt}`).digest('base64url');
}

/** The `sub` this client sees for the user whose own sub is `localSub`. */
export function subjectFor(ctx: Pick<AppContext, 'pairwiseSalt'>, client: Pick<Client, 'subject_type' | 'sector_identifier_uri' | 'redirect_uris'>, localSub: string): string {
  // clients stored before subject_type existed have none: public
  if (client.subject_type !== 'pairwise') return localSub;
  return pairwiseSubject(sectorIdentifier(client), localSub, ctx.pairwiseSalt);
}
