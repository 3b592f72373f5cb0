// What ending a login session does for Back-Channel Logout 1.0: the session ends, a logout token
// is queued for each client it signed in to that registered a backchannel_logout_uri (§2.5), and
// the grants given in it without offline_access end (§2.7) - all in one transaction. Delivery
// happens in the background (delivery.ts), so the person's logout never waits for a client.
import { sidOf } from '../../authentication/login-session.js';
import type { AppContext } from '../../context.js';

/** Ends the login session with this id hash. Returns the number of logout tokens queued. */
export async function endLoginSession(ctx: AppContext, sessionIdHash: string): Promise<number> {
  const notify: string[] = [];
  for (const clientId of await ctx.repos.backchannelLogout.sessionClients(sessionIdHash)) {
    if ((await ctx.clients.get(clientId))?.backchannel_logout_uri) notify.push(clientId);
  }
  const ended = await ctx.repos.backchannelLogout.endSession(sessionIdHash, sidOf(sessionIdHash), notify);
  return ended ? notify.length : 0;
}

/**
 * A new login at a browser that had a session. The same user: the old session's clients and
 * grants move to the new one (a re-authentication is no logout). Another user: the old session
 * ends like a logout, so its clients learn that their user left.
 */
export async function replaceLoginSession(ctx: AppContext, previous: { id_hash: string; sub: string }, next: { id_hash: string; sub: string }): Promise<number> {
  if (previous.sub === next.sub) {
    await ctx.repos.backchannelLogout.handOver(previous.id_hash, next.id_hash);
    return 0;
  }
  return endLoginSession(ctx, previous.id_hash);
}
