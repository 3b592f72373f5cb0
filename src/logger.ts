// pino options: JSON logs with request ids and never a secret (authorization headers, cookies,
// passwords, tokens, codes). Query strings are logged with sensitive values replaced.
import type { FastifyServerOptions } from 'fastify';
import type { Env } from './config/env.js';

const SENSITIVE_PARAMS = [
  'code', 'code_verifier', 'access_token', 'refresh_token', 'id_token', 'id_token_hint', 'token',
  'client_secret', 'client_assertion', 'password', 'device_code', 'user_code', 'login_hint', 'state', 'nonce',
];

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of SENSITIVE_PARAMS) if (params.has(name)) params.set(name, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

export function loggerOptions(env: Pick<Env, 'LOG_LEVEL'>): FastifyServerOptions['logger'] {
  return {
    level: env.LOG_LEVEL,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        ...SENSITIVE_PARAMS.map((p) => `req.body.${p}`),
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(req: { id: string; method: string; url: string; ip?: string }) {
        return { id: req.id, method: req.method, url: redactUrl(req.url), ip: req.ip };
      },
    },
  };
}
