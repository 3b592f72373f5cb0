// The app's own HTTP requests to the authorization server and the API, each recorded as a step.
// They go through Fastify's inject: the same routes, hooks and parsers as a request from the
// network, without assuming that ISSUER is reachable from inside the server (behind a proxy it
// often is not).
import type { FastifyInstance } from 'fastify';
import { maskBody, maskFields, maskHeaders, type Step, type StepKind } from './steps.js';

export interface Call {
  kind: StepKind;
  from: Step['from'];
  to: Step['to'];
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
}

export interface CallResult {
  step: Step;
  status: number;
  json: Record<string, unknown> | undefined;
}

const SHOWN_RESPONSE_HEADERS = ['content-type', 'cache-control', 'www-authenticate', 'location'];

export async function backChannel(app: FastifyInstance, issuer: string, call: Call): Promise<CallResult> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await app.inject({ method: call.method, url: call.path, headers, payload: call.form ? new URLSearchParams(call.form).toString() : undefined });
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(res.body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  const shown = Object.fromEntries(SHOWN_RESPONSE_HEADERS.flatMap((h) => (res.headers[h] === undefined ? [] : [[h, String(res.headers[h])]])));
  const step: Step = {
    kind: call.kind,
    from: call.from,
    to: call.to,
    request: { method: call.method, url: `${issuer}${call.path}`, headers: maskHeaders(headers), ...(call.form ? { body: maskFields(call.form) } : {}) },
    response: { status: res.statusCode, headers: shown, body: json ? maskBody(json) : res.body.slice(0, 500) },
  };
  return { step, status: res.statusCode, json };
}

export const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
