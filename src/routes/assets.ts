// The pages' static files, served by this server (no CDN): the stylesheet, the brand stylesheet
// generated from BRAND_PRIMARY_COLOR, and the BRAND_LOGO_FILE. Each URL carries a hash of its
// content, so it can be cached for a year (immutable) and a new version is a new URL.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Env } from '../config/env.js';
import { ConfigError } from '../config/env.js';
import { brandStylesheet } from './brand-colours.js';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

interface Asset {
  url: string;
  type: string;
  body: Buffer;
}

function asset(name: string, ext: string, body: Buffer): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { url: `/assets/${name}.${hash}${ext}`, type: TYPES[ext]!, body };
}

/** What the layout shows of the brand (views/layout.eta). */
export interface BrandView {
  name: string;
  logo: string | undefined;
  support_url: string | undefined;
  privacy_url: string | undefined;
}

export interface PageAssets {
  stylesheets: string[];
  brand: BrandView;
  files: Asset[];
}

/** Reads and hashes the files once, at start; an unreadable BRAND_LOGO_FILE stops the start. */
export function loadPageAssets(env: Env, viewsDir: string): PageAssets {
  const files = [
    asset('app', '.css', readFileSync(path.join(viewsDir, 'assets', 'app.css'))),
    asset('brand', '.css', Buffer.from(brandStylesheet(env.BRAND_PRIMARY_COLOR))),
  ];
  const stylesheets = files.map((f) => f.url);
  let logo = env.BRAND_LOGO_URL;
  if (env.BRAND_LOGO_FILE) {
    let body: Buffer;
    try {
      body = readFileSync(env.BRAND_LOGO_FILE);
    } catch (e) {
      throw new ConfigError(`environment: BRAND_LOGO_FILE: cannot read ${env.BRAND_LOGO_FILE} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const file = asset('logo', path.extname(env.BRAND_LOGO_FILE).toLowerCase(), body);
    files.push(file);
    logo = file.url;
  }
  return {
    stylesheets,
    brand: { name: env.BRAND_NAME, logo, support_url: env.BRAND_SUPPORT_URL, privacy_url: env.BRAND_PRIVACY_URL },
    files,
  };
}

export function assetRoutes(app: FastifyInstance, assets: PageAssets): void {
  for (const file of assets.files) {
    app.get(file.url, (_request, reply) => reply.type(file.type).header('cache-control', 'public, max-age=31536000, immutable').send(file.body));
  }
}
