# syntax=docker/dockerfile:1
# numrep exporter image: `docker build -t numrep .` (docker-compose.yml builds it as the `exporter` service).
#
# Stage 1 (build) compiles better-sqlite3 from source against this exact Node (no prebuilt binary is
# downloaded) and the TypeScript exporter; stage 2 is the runtime: production node_modules, the compiled
# exporter, a non-root user, volumes for the inbox and the database, a health check on /healthz.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
# node-gyp toolchain for better-sqlite3
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifests first: the dependency layers are rebuilt only when these change. The lockfile covers both
# workspaces, so grafana-plugin/package.json must be present even though only the exporter is installed.
COPY package.json package-lock.json tsconfig.json ./
COPY exporter/package.json exporter/
COPY grafana-plugin/package.json grafana-plugin/
# Native addons from source (prebuild-install honours this and falls back to node-gyp rebuild).
ENV npm_config_build_from_source=true \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
# 1. Production dependencies only, better-sqlite3 compiled here; set aside for the runtime stage.
RUN npm ci --omit=dev --workspace @numrep/exporter \
 && node -e "const D=require('better-sqlite3'); new D(':memory:').prepare('select 1').get()" \
 && mkdir -p exporter/node_modules /out/exporter \
 && mv node_modules /out/node_modules \
 && mv exporter/node_modules /out/exporter/node_modules
# 2. Everything the TypeScript build needs (types, tsc); no native build needed just to compile.
RUN npm ci --workspace @numrep/exporter --ignore-scripts
COPY exporter/tsconfig.json exporter/
COPY exporter/src exporter/src
RUN npm run build --workspace @numrep/exporter \
 && test -f exporter/dist/cli/main.js

# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/node_modules ./node_modules
COPY --from=build /out/exporter/node_modules ./exporter/node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/exporter/package.json ./exporter/package.json
COPY --from=build /src/exporter/dist ./exporter/dist

# A dedicated unprivileged user; it owns the database directory and the inbox (the demo writes there).
RUN groupadd --system --gid 10001 numrep \
 && useradd --system --uid 10001 --gid numrep --home-dir /var/lib/numrep --no-create-home --shell /usr/sbin/nologin numrep \
 && mkdir -p /var/lib/numrep /var/spool/numrep/inbox \
 && chown -R numrep:numrep /var/lib/numrep /var/spool/numrep \
 && ln -s /app/exporter/dist/cli/main.js /usr/local/bin/numrep \
 && chmod 0755 /app/exporter/dist/cli/main.js
USER numrep:numrep

# /var/lib/numrep: the SQLite database (numrep.db) and quarantine.jsonl. /var/spool/numrep/inbox: the drop folder.
VOLUME ["/var/lib/numrep", "/var/spool/numrep/inbox"]
EXPOSE 9847

# node:*-slim has no curl/wget: Node's own fetch asks /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9847/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "/app/exporter/dist/cli/main.js"]
# Inside a container the exporter must listen on all interfaces (its own default is 127.0.0.1).
CMD ["serve", "--listen", "0.0.0.0:9847", "--inbox", "/var/spool/numrep/inbox", "--db", "/var/lib/numrep/numrep.db"]
