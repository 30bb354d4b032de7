# The stash-mirror app image (worker, api, migrate; see docker-compose.yml).
# glibc base on purpose: the Temporal SDK's native core ships glibc builds only, so no Alpine.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app

# Dependencies first, for layer caching. The postinstall hook patches postgres.js's connection-loss
# defects (scripts/patch-postgres.mjs), then scripts/install-temporal.sh finds no Go here and only
# prints a notice: the image talks to a real Temporal server, never the dev server.
COPY package.json package-lock.json ./
COPY scripts/patch-postgres.mjs scripts/install-temporal.sh ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

# Run unprivileged; the app only needs to read /app.
USER node
ENV HOST=0.0.0.0 \
    PORT=3000 \
    WORKER_METRICS_HOST=0.0.0.0
# The API, and the worker's Prometheus metrics (WORKER_METRICS_PORT).
EXPOSE 3000 9464

# A bounded V8 heap: the worker streams pages and holds nothing library-sized, but V8 otherwise lets
# its heap grow lazily towards a quarter of the machine's memory (docs/performance.md).
CMD ["node", "--max-old-space-size=192", "bin/stash-mirror.js", "worker"]
