// The verification page of the device flow (RFC 8628 §3.3): GET/POST /device.
//
// enter (or confirm a prefilled) user_code → sign in if needed → consent naming the client and
// its scopes → "return to your device" (or "denied"). Every step is a plain HTML form with a
// CSRF field; every response is no-store.
//
// Guessing a user_code (§5.1). There are 20^8 ≈ 2.56e10 codes (34.6 bits, §6.1). Every request
// that looks a code up counts against two limits, kept per instance:
//   - per address: CODE_CHECKS_PER_ADDRESS (20) a minute, 28,800 a day;
//   - overall:     CODE_CHECKS_OVERALL (600) a minute, 864,000 a day, however many addresses.
// With L codes live at once a guess hits with probability L / 2.56e10. At L = 1,000 (a busy
// server: a thousand devices waiting within DEVICE_CODE_TTL) one expected hit takes 2.56e7
// guesses: about 890 days from one address, and about 30 days for a botnet held to the overall
// limit (300 days at L = 100). Each code lives only DEVICE_CODE_TTL (10 minutes), so a hit
// cannot be aimed at a chosen victim, and it only lets the guesser approve that device for their
// own account or deny it; it never reveals the victim's account. Limits are kept in memory per
// instance: N instances allow N times these rates. The overall limit trades a short lock-out of
// everyone (one minute at most) during an attack for the bound above.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { currentSession } from '../authentication/login-session.js';
import type { AppContext } from '../context.js';
import { VERIFICATION_PATH } from '../oauth/device/device-authorization.js';
import { formatUserCode, isWellFormedUserCode, normaliseUserCode } from '../oauth/device/user-code.js';
import { decideDeviceRequest, describeRequestedScopes, findPendingRequest, type PendingDeviceRequest } from '../oauth/device/verification.js';
import { singleParams } from '../oauth/params.js';
import { clientView } from './consent.js';
import { noStore } from './http.js';

export const CODE_CHECKS_PER_ADDRESS = 20;
export const CODE_CHECKS_OVERALL = 600;


// what the form may send; anything longer than this is not a code anyone typed
const deviceForm = z.object({
  user_code: z.string().max(64).optional(),
  decision: z.enum(['allow', 'deny']).optional(),
});

interface DevicePage {
  user_code: string;
  error?: 'device.wrong_code' | 'device.too_many' | 'device.code_format' | 'device.code_missing' | undefined;
}

export async function deviceRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const perAddress = app.createRateLimit({ max: CODE_CHECKS_PER_ADDRESS, timeWindow: 60_000 });
  const overall = app.createRateLimit({ max: CODE_CHECKS_OVERALL, timeWindow: 60_000, keyGenerator: () => 'device:user_code' });

  /** §5.1: counts one code check; false (and Retry-After set) when a limit is exceeded. */
  async function mayCheckCode(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const results = [await perAddress(request), await overall(request)];
    const exceeded = results.find((r) => !r.isAllowed && r.isExceeded);
    if (exceeded && !exceeded.isAllowed) reply.header('retry-after', String(exceeded.ttlInSeconds));
    return !exceeded;
  }

  function renderEntry(reply: FastifyReply, status: number, page: DevicePage) {
    return noStore(reply)
      .code(status)
      .view('device.eta', { title: reply.text.t('device.title'), csrf: reply.generateCsrf(), action: VERIFICATION_PATH, ...page, error: page.error && reply.text.t(page.error) });
  }

  async function renderConsent(reply: FastifyReply, request: PendingDeviceRequest, sub: string) {
    const user = await ctx.repos.users.findBySub(sub);
    const { t } = reply.text;
    return noStore(reply).view('consent.eta', {
      // §3.3.1, §5.4: the code is shown again so the person can check it is the one on their
      // own device, not one a phisher sent them, and so is the client that asks (its name, logo
      // and site from the registry)
      title: t('device.confirm_title', { code: request.display_code }),
      client: clientView(request.client),
      device_code: request.display_code,
      account: user?.username,
      scopes: describeRequestedScopes(request, t),
      action: VERIFICATION_PATH,
      csrf: reply.generateCsrf(),
      hidden: [['user_code', request.display_code]],
    });
  }

  /** §3.3: the person must be signed in; the login page brings them back here with the code. */
  function redirectToLogin(reply: FastifyReply, request: PendingDeviceRequest) {
    const returnTo = `${VERIFICATION_PATH}?user_code=${encodeURIComponent(request.display_code)}`;
    return reply.code(303).header('location', `/login?return_to=${encodeURIComponent(returnTo)}`).send();
  }

  /** How the typed value is shown back in the field: formatted when it is code-shaped. */
  function shownBack(typed: string): string {
    const n = normaliseUserCode(typed);
    return isWellFormedUserCode(n) ? formatUserCode(n) : typed.trim();
  }

  // §3.3: the page at verification_uri; with ?user_code= (verification_uri_complete, §3.3.1) the
  // field is prefilled. A signed-in person coming back from the login page goes on to consent,
  // which shows the code again so they can compare it with their device (§5.4).
  app.get(VERIFICATION_PATH, { config: { page: true } }, async (request, reply) => {
    const query = deviceForm.safeParse(singleParams(request.query));
    const typed = query.success ? (query.data.user_code ?? '') : '';
    if (!typed) return renderEntry(reply, 200, { user_code: '' });
    const session = await currentSession(ctx, request);
    if (!session) return renderEntry(reply, 200, { user_code: shownBack(typed) });
    if (!(await mayCheckCode(request, reply))) return renderEntry(reply, 429, { user_code: shownBack(typed), error: 'device.too_many' });
    const pending = await findPendingRequest(ctx, typed);
    if (!pending) return renderEntry(reply, 400, { user_code: shownBack(typed), error: 'device.wrong_code' });
    return renderConsent(reply, pending, session.sub);
  });

  app.post(VERIFICATION_PATH, { config: { page: true }, preHandler: app.csrfProtection }, async (request, reply) => {
    const form = deviceForm.safeParse(singleParams(request.body));
    if (!form.success) return renderEntry(reply, 400, { user_code: '', error: 'device.code_format' });
    const typed = form.data.user_code ?? '';
    if (!typed.trim()) return renderEntry(reply, 400, { user_code: '', error: 'device.code_missing' });
    if (!(await mayCheckCode(request, reply))) return renderEntry(reply, 429, { user_code: shownBack(typed), error: 'device.too_many' });
    const pending = await findPendingRequest(ctx, typed);
    if (!pending) return renderEntry(reply, 400, { user_code: shownBack(typed), error: 'device.wrong_code' });

    const session = await currentSession(ctx, request);
    if (!session) return redirectToLogin(reply, pending);
    if (!form.data.decision) return renderConsent(reply, pending, session.sub);

    const approved = form.data.decision === 'allow';
    const decided = await decideDeviceRequest(
      ctx,
      pending,
      approved ? { approved: true, sub: session.sub, auth_time: session.auth_time } : { approved: false, sub: session.sub },
      request.ip,
    );
    // decided or expired between the consent page and this answer
    if (!decided) return renderEntry(reply, 400, { user_code: '', error: 'device.wrong_code' });
    const client_name = pending.client.client_name ?? pending.client.client_id;
    return noStore(reply).view(approved ? 'device_done.eta' : 'device_denied.eta', { title: reply.text.t(approved ? 'device.done_title' : 'device.denied_title'), client_name });
  });
}
