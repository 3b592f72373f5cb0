// config/clients.schema.json is generated from the zod schema (npm run schema:clients); this
// keeps the committed copy from going stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientsSchemaDocument } from '../../src/cli/clients.js';

describe('config/clients.schema.json', () => {
  it('equals the schema generated from the registry loader (run `npm run schema:clients` after changing it)', () => {
    const committed = readFileSync('config/clients.schema.json', 'utf8');
    expect(committed).toBe(`${JSON.stringify(clientsSchemaDocument(), null, 2)}\n`);
  });

  it('is the schema config/clients.json names, so editors complete and check it', () => {
    const registry = JSON.parse(readFileSync('config/clients.json', 'utf8')) as { $schema: string };
    expect(registry.$schema).toBe('./clients.schema.json');
  });

  it('lists every client field and refuses unknown ones', () => {
    const schema = clientsSchemaDocument() as { properties: { clients: { items: { properties: object; additionalProperties: unknown; required: string[] } } } };
    const client = schema.properties.clients.items;
    expect(Object.keys(client.properties)).toEqual(
      expect.arrayContaining(['client_id', 'client_secret', 'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'scope', 'require_pkce', 'skip_consent', 'audience', 'access_token_ttl']),
    );
    expect(client.additionalProperties).toBe(false);
    expect(client.required).toEqual(['client_id']);
  });

  it('accepts a ${VAR} placeholder where the value is checked only after interpolation', () => {
    const schema = clientsSchemaDocument() as { properties: { clients: { items: { properties: Record<string, { anyOf: { minLength?: number; pattern?: string }[] }> } } } };
    const secret = schema.properties.clients.items.properties.client_secret!;
    expect(secret.anyOf[0]!.minLength).toBe(32);
    expect(new RegExp(secret.anyOf[1]!.pattern!).test('${WEBAPP_CLIENT_SECRET}')).toBe(true);
  });
});
