// The single-page app of the playground: a public client (no secret) that runs the authorization
// code flow with PKCE in the browser (RFC 7636, OAuth 2.0 for Browser-Based Apps). It keeps state
// and code_verifier in sessionStorage across the redirect, exchanges the code at the token
// endpoint itself, then hands the playground what it sent and got so the run is drawn.
'use strict';

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const KEY = 'playground-spa';

async function start(cfg) {
  const state = random();
  const codeVerifier = random();
  // RFC 7636 §4.2: S256 challenge
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier)));
  const url = new URL(cfg.authorize);
  const params = { response_type: 'code', client_id: cfg.clientId, redirect_uri: cfg.redirectUri, scope: cfg.scope, state, code_challenge: challenge, code_challenge_method: 'S256' };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  sessionStorage.setItem(KEY, JSON.stringify({ state, codeVerifier, authorizeUrl: url.href }));
  location.assign(url.href);
}

async function callback(cfg, status) {
  const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  sessionStorage.removeItem(KEY);
  const query = new URLSearchParams(location.search);
  // RFC 6749 §10.12 and RFC 9207 §2.4: the response must answer this page's request, from this issuer
  if (!saved || query.get('state') !== saved.state) return void (status.textContent = 'The state does not match the one this page sent: the response is refused.');
  if (query.get('iss') !== cfg.issuer) return void (status.textContent = 'The iss parameter is not this server: the response is refused.');
  if (query.get('error')) return void (status.textContent = `The server answered ${query.get('error')}: ${query.get('error_description') || ''}`);
  status.textContent = 'Exchanging the code for tokens…';
  const tokenRequest = { grant_type: 'authorization_code', code: query.get('code') || '', redirect_uri: cfg.redirectUri, client_id: cfg.clientId, code_verifier: saved.codeVerifier };
  const res = await fetch(cfg.token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(tokenRequest) });
  const tokenResponse = await res.json();
  const record = await fetch(cfg.record, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'csrf-token': cfg.csrf },
    body: JSON.stringify({ authorize_url: saved.authorizeUrl, callback_url: location.href, token_request: tokenRequest, token_status: res.status, token_response: tokenResponse }),
  });
  if (!record.ok) return void (status.textContent = 'The playground could not keep the record of this run.');
  location.assign((await record.json()).next);
}

document.addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('spa');
  if (!el) return;
  const cfg = { ...el.dataset };
  const status = document.getElementById('spa-status');
  document.getElementById('spa-start').addEventListener('click', () => void start(cfg));
  const query = new URLSearchParams(location.search);
  if (query.has('code') || query.has('error')) callback(cfg, status).catch((e) => void (status.textContent = `The flow failed: ${e.message}`));
});
