// The playground (issue 10): the server plays the relying party for every flow and records each
// HTTP step of a run, so a person learning OAuth sees what happens. Development only: app.ts
// registers these routes only when PLAYGROUND is on, which production refuses (src/config/env.ts).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeJwt, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { ClientConfig } from '../config/clients.js';
import type { AppContext } from '../context.js';
import { PageError } from '../oauth/errors.js';
import { noStore } from '../routes/http.js';
import { backChannel, text } from './back-channel.js';
import { decodeToken } from './decode.js';
import { CALLBACK_PATH, clientAuthentication, loadDemoClients, LOGOUT_CALLBACK, type DemoClients } from './demo-clients.js';
import { FLOW_INFO } from './flows.js';
import { FLOWS, RunStore, type Flow, type Run } from './run-record.js';
import { ACTOR_NAMES, ACTORS, maskFields, maskUrl, STEP_KINDS, stepSchema, type Step } from './steps.js';

const BASE = '/playground';
const random = () => randomBytes(32).toString('base64url');
const S256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const WANTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const scopeFor = (client: ClientConfig) => WANTED_SCOPES.filter((s) => client.scope.split(' ').includes(s)).join(' ');
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// the SPA page runs a script from this server: script-src 'self', fetch to this server only
const SPA_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The SPA's own steps, as its script saw them; the server masks them before they are kept. */
const spaRecordSchema = z.object({
  authorize_url: z.url(),
  callback_url: z.url(),
  token_request: z.record(z.string(), z.string()),
  token_status: z.number().int(),
  token_response: z.record(z.string(), z.unknown()),
});

export async function playgroundRoutes(app: FastifyInstance, ctx: AppContext, viewsDir: string): Promise<void> {
  const issuer = ctx.env.ISSUER;
  // read at each use, like any app reading its config: a SIGHUP reload of the registry applies
  // here too, and an unreadable file leaves the playground without clients instead of the
  // server without a start (the start has read and checked the file already)
  const demoClients = (): DemoClients => {
    try {
      return loadDemoClients(ctx.env);
    } catch {
      return {};
    }
  };
  const store = new RunStore(ctx.secretKeys, issuer.startsWith('https://'));
  const page = { config: { page: true } };
  const guarded = { config: { page: true }, preHandler: app.csrfProtection };

  // static files: a content hash in the URL, so they can be cached for a year (RFC 9111 §5.2.2.1 max-age, RFC 8246 immutable)
  const assets = new Map<string, { body: Buffer; type: string }>();
  const assetUrl: Record<string, string> = {};
  for (const [file, type] of [['playground.css', 'text/css; charset=utf-8'], ['spa.js', 'text/javascript; charset=utf-8']] as const) {
    const body = readFileSync(path.join(viewsDir, 'playground', 'assets', file));
    assets.set(file, { body, type });
    assetUrl[file] = `${BASE}/assets/${file}?v=${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
  }
  app.get<{ Params: { file: string } }>(`${BASE}/assets/:file`, (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).send({ error: 'not_found', error_description: 'no such playground asset' });
    return reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body);
  });

  const client = (flow: Flow): ClientConfig => {
    const c = demoClients()[flow];
    if (!c) throw new PageError('playground.no_client_title', 'playground.no_client', { file: ctx.env.CLIENTS_FILE, flow: FLOW_INFO[flow].title });
    return c;
  };
  const call = backChannel.bind(null, app, issuer);
  const jwksStep = async (run: Run) => run.steps.push((await call({ kind: 'jwks', from: 'app', to: 'as', method: 'GET', path: '/jwks' })).step);
  const done = async (reply: FastifyReply, run: Run) => {
    await store.write(reply, run);
    return noStore(reply).redirect(`${BASE}/${run.flow}#run`, 303);
  };
  const tokensFrom = (json: Record<string, unknown> | undefined, previous: Run['tokens'] = {}): Run['tokens'] => ({
    access_token: text(json?.access_token) ?? previous.access_token,
    id_token: text(json?.id_token) ?? previous.id_token,
    refresh_token: text(json?.refresh_token) ?? previous.refresh_token,
  });

  app.get(BASE, page, (_request, reply) => {
    const clients = demoClients();
    return reply.view('playground/index.eta', { title: 'OAuth playground', css: assetUrl['playground.css'], flows: FLOWS.map((f) => ({ id: f, ...FLOW_INFO[f], available: clients[f] !== undefined })) });
  });

  for (const flow of FLOWS) {
    // the SPA's redirect URI is its own page: the page's script reads the code from the URL
    const paths = flow === 'spa' ? [`${BASE}/spa`, `${CALLBACK_PATH}/spa`] : [`${BASE}/${flow}`];
    for (const url of paths)
      app.get(url, page, async (request, reply) => {
        const found = await store.read(request);
        const run = found?.flow === flow ? found : undefined;
        noStore(reply); // the run carries tokens
        if (flow === 'spa') reply.header('content-security-policy', SPA_CSP);
        return reply.view('playground/flow.eta', await flowPage(flow, run, reply));
      });
  }

  async function flowPage(flow: Flow, run: Run | undefined, reply: FastifyReply) {
    let tokens: Awaited<ReturnType<typeof decodeToken>>[] = [];
    if (run) {
      const jwks = (await app.inject({ method: 'GET', url: '/jwks' })).json<JSONWebKeySet>();
      tokens = await Promise.all(
        (['id_token', 'access_token'] as const).flatMap((name) => {
          const token = run.tokens[name];
          return token ? [decodeToken(name, token, jwks, issuer)] : [];
        }),
      );
    }
    const clients = demoClients();
    const c = clients[flow];
    return {
      title: `${FLOW_INFO[flow].title}: OAuth playground`,
      css: assetUrl['playground.css'],
      spaScript: flow === 'spa' ? assetUrl['spa.js'] : undefined,
      flow,
      info: FLOW_INFO[flow],
      client: c,
      csrf: reply.generateCsrf(),
      spa: c && flow === 'spa' ? { issuer, authorize: `${issuer}/authorize`, token: `${issuer}/token`, client_id: c.client_id, redirect_uri: `${issuer}${CALLBACK_PATH}/spa`, scope: scopeFor(c), record: `${BASE}/spa/record` } : undefined,
      run,
      steps: run?.steps.map((s, i) => ({ ...s, n: i + 1 + run.dropped, about: STEP_KINDS[s.kind], fromName: ACTOR_NAMES[s.from], toName: ACTOR_NAMES[s.to] })),
      actors: ACTORS.map((a) => ({ id: a, name: ACTOR_NAMES[a] })),
      tokens: tokens.filter((t) => t !== undefined),
      refreshToken: run?.tokens.refresh_token ? maskFields({ refresh_token: run.tokens.refresh_token }).refresh_token : undefined,
      actions: run ? actionsFor(run, clients) : [],
    };
  }

  function actionsFor(run: Run, clients: DemoClients): { id: string; label: string }[] {
    const c = clients[run.flow];
    const a: { id: string; label: string }[] = [];
    if (run.tokens.refresh_token && c?.grant_types.includes('refresh_token')) a.push({ id: 'refresh', label: 'Refresh the tokens' });
    if (run.tokens.access_token) a.push({ id: 'userinfo', label: 'Call UserInfo with the access token' });
    if (run.tokens.access_token && clients.resourceServer) a.push({ id: 'introspect', label: 'Introspect the access token (as the API)' });
    if (run.tokens.refresh_token || run.tokens.access_token) a.push({ id: 'revoke', label: run.tokens.refresh_token ? 'Revoke the refresh token' : 'Revoke the access token' });
    if (run.tokens.id_token) a.push({ id: 'logout', label: 'Log out (RP-initiated)' });
    return a;
  }

  // ---- authorization code + PKCE, web app: the playground's server does the token request ----
  app.post(`${BASE}/web/start`, guarded, async (_request, reply) => {
    const c = client('web');
    const pending = { state: random(), nonce: random(), code_verifier: random() };
    const url = new URL(`${issuer}/authorize`);
    const params = {
      response_type: 'code',
      client_id: c.client_id,
      redirect_uri: `${issuer}${CALLBACK_PATH}/web`,
      scope: scopeFor(c),
      state: pending.state,
      nonce: pending.nonce,
      // RFC 7636 §4.2: the challenge is the S256 hash of the verifier, which stays with the app
      code_challenge: S256(pending.code_verifier),
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const step: Step = { kind: 'authorize', from: 'browser', to: 'as', request: { method: 'GET', url: maskUrl(url.href), headers: {} }, note: 'The app keeps state, nonce and code_verifier (in its encrypted cookie) until the browser comes back.' };
    await store.write(reply, { flow: 'web', client_id: c.client_id, pending, tokens: {}, steps: [step], dropped: 0 });
    return noStore(reply).redirect(url.href, 303);
  });

  /** The authorization response at a redirect URI: RFC 6749 §4.1.2 and §10.12 (state), RFC 9207 §2 (iss). */
  function checkResponse(run: Run | undefined, flow: Flow, params: Record<string, string | undefined>): { run: Run; problem?: string } {
    if (!run || run.flow !== flow || !run.pending.state) throw new PageError('playground.no_response_waiting_title', 'playground.start_flow_again', { url: `${BASE}/${flow}` });
    // RFC 6749 §10.12: the state must be the one this browser's run sent, or it is a forged response
    if (params.state !== run.pending.state) return { run, problem: 'The state does not match the one the app sent: the response is refused (RFC 6749 §10.12).' };
    if (params.iss !== issuer) return { run, problem: `The iss parameter is not this server's issuer: the response is refused (RFC 9207 §2.4).` };
    if (params.error) return { run, problem: `The server answered ${params.error}${params.error_description ? `: ${params.error_description}` : ''}.` };
    return { run };
  }

  app.get<{ Querystring: Record<string, string> }>(`${CALLBACK_PATH}/web`, page, async (request, reply) => {
    const query = request.query;
    const { run, problem } = checkResponse(await store.read(request), 'web', query);
    const url = `${issuer}${request.url}`;
    run.steps.push({ kind: 'callback', from: 'as', to: 'app', request: { method: 'GET', url: maskUrl(url), headers: {} }, note: problem ?? 'state and iss match what the app expects.' });
    const code = query.code;
    if (problem || !code) return done(reply, { ...run, pending: {} });
    const c = client('web');
    const auth = clientAuthentication(c);
    const r = await call({
      kind: 'code_token',
      from: 'app',
      to: 'as',
      method: 'POST',
      path: '/token',
      headers: auth.headers,
      form: { grant_type: 'authorization_code', code, redirect_uri: `${issuer}${CALLBACK_PATH}/web`, code_verifier: run.pending.code_verifier ?? '', ...auth.body },
    });
    const next: Run = { ...run, pending: { nonce: run.pending.nonce }, tokens: tokensFrom(r.json), steps: [...run.steps, r.step] };
    if (r.status === 200) await jwksStep(next);
    return done(reply, next);
  });

  // ---- authorization code + PKCE, SPA: the page's script does the token request, then hands
  // the playground what it sent and got, to be kept and drawn like every other run ----
  app.post(`${BASE}/spa/record`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const parsed = spaRecordSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid_request', error_description: 'the record of the SPA run is not in the expected shape' });
    const r = parsed.data;
    const c = client('spa');
    const steps: Step[] = [
      { kind: 'authorize', from: 'browser', to: 'as', request: { method: 'GET', url: maskUrl(r.authorize_url), headers: {} }, note: 'The page keeps state and code_verifier in sessionStorage until the browser comes back.' },
      { kind: 'callback', from: 'as', to: 'browser', request: { method: 'GET', url: maskUrl(r.callback_url), headers: {} }, note: 'The page checked state and iss.' },
      stepSchema.parse({
        kind: 'code_token',
        from: 'browser',
        to: 'as',
        request: { method: 'POST', url: `${issuer}/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: maskFields(r.token_request) },
        response: { status: r.token_status, headers: { 'content-type': 'application/json' }, body: maskFields(Object.fromEntries(Object.entries(r.token_response).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))) },
        note: 'A public client: no secret, the code_verifier proves the page started the flow (RFC 7636 §4.5).',
      }),
    ];
    const run: Run = { flow: 'spa', client_id: c.client_id, pending: {}, tokens: tokensFrom(r.token_response), steps, dropped: 0 };
    if (run.tokens.id_token) await jwksStep(run);
    await store.write(reply, run);
    return noStore(reply).send({ next: `${BASE}/spa#run` });
  });

  // ---- implicit ID token with form_post ----
  app.post(`${BASE}/implicit/start`, guarded, async (_request, reply) => {
    const c = client('implicit');
    const pending = { state: random(), nonce: random() };
    const url = new URL(`${issuer}/authorize`);
    const params = { response_type: 'id_token', response_mode: 'form_post', client_id: c.client_id, redirect_uri: `${issuer}${CALLBACK_PATH}/implicit`, scope: scopeFor(c), state: pending.state, nonce: pending.nonce };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const step: Step = { kind: 'authorize_implicit', from: 'browser', to: 'as', request: { method: 'GET', url: maskUrl(url.href), headers: {} }, note: 'nonce is required here: it ties the ID token to this request (OpenID Connect Core §3.2.2.1).' };
    await store.write(reply, { flow: 'implicit', client_id: c.client_id, pending, tokens: {}, steps: [step], dropped: 0 });
    return noStore(reply).redirect(url.href, 303);
  });
  app.post<{ Body: Record<string, string> }>(`${CALLBACK_PATH}/implicit`, page, async (request, reply) => {
    const body = Object.fromEntries(Object.entries(request.body ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const { run, problem } = checkResponse(await store.read(request), 'implicit', body);
    const step: Step = { kind: 'form_post', from: 'as', to: 'app', request: { method: 'POST', url: `${issuer}${CALLBACK_PATH}/implicit`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: maskFields(body) } };
    const next: Run = { ...run, pending: {}, steps: [...run.steps, step] };
    if (problem || !body.id_token) return done(reply, { ...next, steps: [...run.steps, { ...step, note: problem ?? 'No id_token in the response.' }] });
    await jwksStep(next);
    // OpenID Connect Core §3.2.2.11: the ID token's nonce must be the one the app sent
    let nonce: unknown;
    try {
      nonce = decodeJwt(body.id_token).nonce;
    } catch {
      nonce = undefined;
    }
    const nonceOk = nonce !== undefined && nonce === run.pending.nonce;
    step.note = nonceOk ? 'state matches; the ID token carries the nonce the app sent.' : 'The ID token does not carry the nonce the app sent: refused (OpenID Connect Core §3.2.2.11).';
    return done(reply, { ...next, tokens: nonceOk ? { id_token: body.id_token } : {} });
  });

  // ---- client credentials ----
  app.post(`${BASE}/client-credentials/start`, guarded, async (_request, reply) => {
    const c = client('client-credentials');
    const auth = clientAuthentication(c);
    const r = await call({ kind: 'client_credentials', from: 'app', to: 'as', method: 'POST', path: '/token', headers: auth.headers, form: { grant_type: 'client_credentials', scope: c.scope, ...auth.body } });
    const run: Run = { flow: 'client-credentials', client_id: c.client_id, pending: {}, tokens: tokensFrom(r.json), steps: [r.step], dropped: 0 };
    if (r.status === 200) await jwksStep(run);
    return done(reply, run);
  });

  // ---- password (discouraged) ----
  const passwordForm = z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) });
  app.post(`${BASE}/password/start`, guarded, async (request, reply) => {
    const form = passwordForm.safeParse(request.body);
    if (!form.success) throw new PageError('playground.credentials_needed_title', 'playground.credentials_needed');
    const c = client('password');
    const auth = clientAuthentication(c);
    const r = await call({
      kind: 'password',
      from: 'app',
      to: 'as',
      method: 'POST',
      path: '/token',
      headers: auth.headers,
      form: { grant_type: 'password', username: form.data.username, password: form.data.password, scope: scopeFor(c), ...auth.body },
    });
    const run: Run = { flow: 'password', client_id: c.client_id, pending: {}, tokens: tokensFrom(r.json), steps: [r.step], dropped: 0 };
    if (r.status === 200) await jwksStep(run);
    return done(reply, run);
  });

  // ---- device authorization: the device side here, the approval at /device in another tab ----
  app.post(`${BASE}/device/start`, guarded, async (_request, reply) => {
    const c = client('device');
    const r = await call({ kind: 'device_authorization', from: 'app', to: 'as', method: 'POST', path: '/device_authorization', form: { client_id: c.client_id, scope: scopeFor(c) } });
    const j = r.json ?? {};
    const pending = {
      device_code: text(j.device_code),
      user_code: text(j.user_code),
      verification_uri: text(j.verification_uri),
      verification_uri_complete: text(j.verification_uri_complete),
      interval: typeof j.interval === 'number' ? j.interval : 5,
    };
    return done(reply, { flow: 'device', client_id: c.client_id, pending: r.status === 200 ? pending : {}, tokens: {}, steps: [r.step], dropped: 0 });
  });
  app.post(`${BASE}/device/poll`, guarded, async (request, reply) => {
    const run = await store.read(request);
    if (run?.flow !== 'device' || !run.pending.device_code) throw new PageError('playground.no_device_flow_title', 'playground.start_one', { url: `${BASE}/device` });
    const c = client('device');
    const r = await call({ kind: 'device_token', from: 'app', to: 'as', method: 'POST', path: '/token', form: { grant_type: DEVICE_GRANT, device_code: run.pending.device_code, client_id: c.client_id } });
    // RFC 8628 §3.5: authorization_pending and slow_down mean poll again; anything else ends the flow
    const again = r.status === 400 && (r.json?.error === 'authorization_pending' || r.json?.error === 'slow_down');
    const next: Run = { ...run, pending: again ? run.pending : {}, tokens: tokensFrom(r.json), steps: [...run.steps, r.step] };
    if (r.status === 200) await jwksStep(next);
    return done(reply, next);
  });

  // ---- what an app does with its tokens: refresh, userinfo, introspection, revocation, logout ----
  app.post<{ Params: { action: string } }>(`${BASE}/run/:action`, guarded, async (request, reply) => {
    const run = await store.read(request);
    if (!run) throw new PageError('playground.no_run_title', 'playground.start_a_flow', { url: BASE });
    const clients = demoClients();
    const c = clients[run.flow];
    const { access_token, refresh_token, id_token } = run.tokens;
    const auth = c ? clientAuthentication(c) : { headers: {}, body: {} };
    switch (request.params.action) {
      case 'refresh': {
        if (!refresh_token) break;
        const r = await call({ kind: 'refresh', from: 'app', to: 'as', method: 'POST', path: '/token', headers: auth.headers, form: { grant_type: 'refresh_token', refresh_token, ...auth.body } });
        const next: Run = { ...run, tokens: r.status === 200 ? tokensFrom(r.json, run.tokens) : run.tokens, steps: [...run.steps, r.step] };
        return done(reply, next);
      }
      case 'userinfo': {
        if (!access_token) break;
        const r = await call({ kind: 'userinfo', from: 'app', to: 'api', method: 'GET', path: '/userinfo', headers: { authorization: `Bearer ${access_token}` } });
        return done(reply, { ...run, steps: [...run.steps, r.step] });
      }
      case 'introspect': {
        const rs = clients.resourceServer;
        if (!access_token || !rs) break;
        const rsAuth = clientAuthentication(rs);
        const r = await call({ kind: 'introspection', from: 'api', to: 'as', method: 'POST', path: '/introspect', headers: rsAuth.headers, form: { token: access_token, token_type_hint: 'access_token', ...rsAuth.body } });
        return done(reply, { ...run, steps: [...run.steps, r.step] });
      }
      case 'revoke': {
        const token = refresh_token ?? access_token;
        if (!token) break;
        const hint = refresh_token ? 'refresh_token' : 'access_token';
        const r = await call({ kind: 'revocation', from: 'app', to: 'as', method: 'POST', path: '/revoke', headers: auth.headers, form: { token, token_type_hint: hint, ...auth.body } });
        return done(reply, { ...run, steps: [...run.steps, r.step] });
      }
      case 'logout': {
        if (!id_token) break;
        const state = random();
        const url = new URL(`${issuer}/logout`);
        const params = { id_token_hint: id_token, client_id: run.client_id, post_logout_redirect_uri: `${issuer}${LOGOUT_CALLBACK}`, state };
        for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
        const step: Step = { kind: 'logout', from: 'browser', to: 'as', request: { method: 'GET', url: maskUrl(url.href), headers: {} } };
        await store.write(reply, { ...run, pending: { state }, steps: [...run.steps, step] });
        return noStore(reply).redirect(url.href, 303);
      }
    }
    throw new PageError('playground.not_possible_title', 'playground.no_token_for_step');
  });
  app.get<{ Querystring: Record<string, string> }>(LOGOUT_CALLBACK, page, async (request, reply) => {
    const run = await store.read(request);
    if (!run?.pending.state) throw new PageError('playground.no_logout_title', 'playground.start_a_flow', { url: BASE });
    const ok = request.query.state === run.pending.state;
    const step: Step = { kind: 'logout_callback', from: 'as', to: 'app', request: { method: 'GET', url: maskUrl(`${issuer}${request.url}`), headers: {} }, note: ok ? 'state matches: the session at the server has ended.' : 'The state does not match the one the app sent.' };
    return done(reply, { ...run, pending: {}, steps: [...run.steps, step] });
  });
}
