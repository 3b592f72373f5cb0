// The playground exists in development only: on by default there, off with PLAYGROUND=false, and
// in production its routes are not even registered (issue 10.1).
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/config/clients.js';
import { loadEnv } from '../../src/config/env.js';
import { startTestServer, type TestServer } from '../support/harness.js';

const demoRegistry = (issuer: string) => loadRegistry('config/clients.json', { production: false, env: { ISSUER: issuer } });
const PATHS = ['/playground', '/playground/web', '/playground/spa', '/playground/callback/web', '/playground/assets/playground.css'];

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('the playground', () => {
  it('is served in development by default, with its stylesheet cached for long', async () => {
    s = await startTestServer({ clients: demoRegistry });
    const page = await s.app.inject({ method: 'GET', url: '/playground' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('OAuth playground');
    const css = page.body.match(/href="(\/playground\/assets\/playground\.css\?v=[0-9a-f]+)"/)?.[1];
    expect(css).toBeDefined();
    const asset = await s.app.inject({ method: 'GET', url: css! });
    expect(asset.headers['content-type']).toMatch(/^text\/css/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('is absent with NODE_ENV=production: no route at all, every path 404', async () => {
    s = await startTestServer({ env: { NODE_ENV: 'production', ISSUER: 'https://id.example.com' } });
    for (const url of PATHS) {
      expect(s.app.hasRoute({ method: 'GET', url }), url).toBe(false);
      expect((await s.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
  });

  it('is absent in development with PLAYGROUND=false', async () => {
    s = await startTestServer({ clients: demoRegistry, env: { PLAYGROUND: 'false' } });
    for (const url of PATHS) expect((await s.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
  });

  it('cannot be turned on in production', () => {
    expect(() => loadEnv({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', SECRET_KEY: 'k'.repeat(32), PLAYGROUND: 'true' })).toThrow(
      'environment: PLAYGROUND cannot be true in production',
    );
  });
});
