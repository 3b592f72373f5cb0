// Scope handling (RFC 6749 §3.3): space-delimited, order does not matter.

export function parseScope(scope: string | undefined | null): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

/** The requested scopes the client registered; unregistered values are dropped (RFC 6749 §3.3 lets the server narrow). */
export function allowedScopes(requested: string[], registered: string): string[] {
  const reg = new Set(parseScope(registered));
  return requested.filter((s) => reg.has(s));
}

export function isSubset(scopes: Iterable<string>, of: Iterable<string>): boolean {
  const set = new Set(of);
  for (const s of scopes) if (!set.has(s)) return false;
  return true;
}

// Plain words for the consent and device pages.
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are (your account identifier)',
  profile: 'See your basic profile: name, picture, locale',
  email: 'See your email address',
  address: 'See your postal address',
  phone: 'See your phone number',
  offline_access: 'Stay signed in: keep access when you are not using the app',
};

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? `Access "${scope}"`;
}
