# syntax=docker/dockerfile:1
# Production image: compiled JavaScript on Node 24, no dev dependencies, runs as a non-root user.
#   docker build -t oauth-server .
#   docker compose up          (server + PostgreSQL 16, settings from .env)

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
# argon2 installs a prebuilt binary for linux-x64/arm64 (glibc); no compiler needed. The
# postinstall step (scripts/pglite-template.mjs) keeps an initialised PGlite cluster in
# node_modules/.cache, so a first start on an empty /data volume skips initdb.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY views ./views
COPY config ./config
# DATA_DIR for the embedded database when DATABASE_URL is not set; mount a volume there
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM finishes in-flight requests and closes the pool (node runs as PID 1 and handles it itself)
CMD ["node", "dist/src/main.js"]
