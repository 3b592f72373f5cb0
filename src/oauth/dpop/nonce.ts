// Server-provided DPoP nonces (RFC 9449 §8 at the token endpoint, §9 at protected resources).
// Stateless: a nonce is its time window and an HMAC of it under SECRET_KEY, so every instance
// issues the same nonce in a window and accepts any instance's, with nothing stored.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../../context.js';

/** A nonce is issued for this many seconds, and accepted one window before and after that. */
export const NONCE_WINDOW_SECONDS = 60;

const NONCE = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;

function mac(key: string, window: number): Buffer {
  return createHmac('sha256', key).update(`dpop-nonce:${window}`).digest();
}

function windowAt(now: number): number {
  return Math.floor(now / 1000 / NONCE_WINDOW_SECONDS);
}

/** The nonce of the current window (§8.1: NQCHAR only: base-36 digits, a dot and base64url). */
export function currentNonce(ctx: AppContext, now = Date.now()): string {
  const w = windowAt(now);
  return `${w.toString(36)}.${mac(ctx.secretKey, w).toString('base64url')}`;
}

/**
 * Whether a proof's nonce is one this server issued in the current window or the one before (a
 * nonce lives 60 to 120 s) or after (another instance's clock may run ahead). Nonces made under
 * SECRET_KEY_PREVIOUS count during a SECRET_KEY rotation.
 */
export function isCurrentNonce(ctx: AppContext, nonce: unknown, now = Date.now()): boolean {
  if (typeof nonce !== 'string') return false;
  const m = NONCE.exec(nonce);
  if (!m) return false;
  const w = parseInt(m[1]!, 36);
  if (Math.abs(windowAt(now) - w) > 1) return false;
  const given = Buffer.from(m[2]!, 'base64url');
  return ctx.secretKeys.some((key) => timingSafeEqual(mac(key, w), given));
}
