// Back-Channel Logout 1.0 in the app: advertised in discovery (§2.1), and a delivery worker that
// starts and stops with the server. Sessions end in src/authentication/login-session.ts.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { BackchannelLogoutWorker } from './delivery.js';

declare module 'fastify' {
  interface FastifyInstance {
    backchannelLogout: BackchannelLogoutWorker;
  }
}

export async function backchannelLogoutSupport(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // §2.1: sid is in ID tokens issued from a login session and in every logout token
  Object.assign(app.discovery, { backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  const worker = new BackchannelLogoutWorker(ctx, app.log);
  app.decorate('backchannelLogout', worker);
  // deliveries left by a restart, or queued by another instance, are picked up from the start
  app.addHook('onReady', async () => worker.wake());
  app.addHook('onClose', async () => worker.stop());
}
