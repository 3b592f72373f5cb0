// What the playground says about each flow: when to use it and its steps (docs/flows.md says
// the same at length).
import type { Flow } from './run-record.js';

export const FLOW_INFO: Record<Flow, { title: string; when: string; rfc: string }> = {
  web: {
    title: 'Authorization code + PKCE (web app)',
    when: 'A web app with a server: the server keeps a client secret and exchanges the code for tokens itself. The default choice for signing users in.',
    rfc: 'RFC 6749 §4.1, RFC 7636, RFC 9700 §2.1.1',
  },
  spa: {
    title: 'Authorization code + PKCE (single-page app)',
    when: 'An app that runs only in the browser: a public client with no secret; the page itself exchanges the code, and PKCE protects it.',
    rfc: 'RFC 6749 §4.1, RFC 7636, OAuth 2.0 for Browser-Based Apps',
  },
  implicit: {
    title: 'Implicit ID token with form_post',
    when: 'An app that only needs to know who the user is (an ID token, no access token), delivered by a form post rather than in the URL.',
    rfc: 'OpenID Connect Core §3.2, OAuth 2.0 Form Post Response Mode',
  },
  'client-credentials': {
    title: 'Client credentials',
    when: 'A backend service calling an API on its own behalf, with no user: machine to machine.',
    rfc: 'RFC 6749 §4.4',
  },
  device: {
    title: 'Device authorization',
    when: 'A TV, console or command-line tool with no browser or keyboard: the user approves on a phone or computer.',
    rfc: 'RFC 8628',
  },
  password: {
    title: 'Resource owner password (discouraged)',
    when: 'Only for a legacy, highly trusted app that cannot redirect; the app sees the password. RFC 9700 §2.4 says it must not be used.',
    rfc: 'RFC 6749 §4.3, RFC 9700 §2.4',
  },
};
