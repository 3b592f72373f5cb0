// The ceiling for the client_credentials benchmark: a bare Fastify route that does only what
// the grant cannot avoid. It parses the same form body, checks the same Basic credentials
// against a SHA-256 hash in constant time, and signs an equal RFC 9068 access token (the same
// algorithm, key size, header and claims) the fastest way this machine has, the server's own
// (src/crypto/jws-sign.ts: node:crypto.sign in the thread pool), then answers the same JSON. No
// logging, no other plugins, no hooks.
//
// Run by bench/client-credentials.ts as a child process: PORT, CLIENT_ID, CLIENT_SECRET,
// SCOPE, AUDIENCE, ISSUER and ACCESS_TOKEN_SIGNING_ALG (RS256) come from the environment.
import { createHash, KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import fastifyFormbody from '@fastify/formbody';
import Fastify from 'fastify';
import { generateKeyPair } from 'jose';
import { signJwt } from '../src/crypto/jws-sign.js';
import { randomToken } from '../src/crypto/random.js';
import { keyGenerationOptions, SIGNING_ALGS, type SigningAlg } from '../src/crypto/signing-algs.js';

const env = process.env;
const port = Number(env.PORT ?? 3999);
const issuer = env.ISSUER ?? `http://127.0.0.1:${port}`;
const clientId = env.CLIENT_ID ?? 'service';
const secretHash = createHash('sha256').update(env.CLIENT_SECRET ?? '').digest();
const scope = env.SCOPE ?? '';
const audience = (env.AUDIENCE ?? clientId).split(' ');
const ttl = 3600;

const alg = (env.ACCESS_TOKEN_SIGNING_ALG ?? 'RS256') as SigningAlg;
if (!SIGNING_ALGS.includes(alg)) throw new Error(`ACCESS_TOKEN_SIGNING_ALG must be one of ${SIGNING_ALGS.join(', ')}`);
const privateKey = KeyObject.from((await generateKeyPair(alg, { ...keyGenerationOptions(alg), extractable: true })).privateKey); // extractable: Node 24 deprecates KeyObject.from() of a non-extractable key (DEP0204)
const kid = randomBytes(12).toString('base64url');

const app = Fastify({ logger: false });
await app.register(fastifyFormbody);

app.post('/token', async (request, reply) => {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(request.headers.authorization ?? '');
  const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  const i = decoded.indexOf(':');
  const id = decodeURIComponent(decoded.slice(0, i));
  const presented = createHash('sha256').update(decodeURIComponent(decoded.slice(i + 1))).digest();
  if (i < 0 || id !== clientId || !timingSafeEqual(presented, secretHash)) return reply.code(401).send({ error: 'invalid_client' });
  const body = request.body as Record<string, string>;
  if (body.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
  const now = Math.floor(Date.now() / 1000);
  const access_token = await signJwt({ alg, kid, typ: 'at+jwt' }, {
    iss: issuer,
    sub: clientId,
    aud: audience.length === 1 ? audience[0] : audience,
    client_id: clientId,
    iat: now,
    exp: now + ttl,
    jti: randomToken(16), // the server's own generator: the same cost for the same value
    ...(scope ? { scope } : {}),
  }, privateKey);
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  return { access_token, token_type: 'Bearer', expires_in: ttl, ...(scope ? { scope } : {}) };
});

app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
