# syntax=docker/dockerfile:1.7
# The one modelgate image: `modelgate webhook|controller|verify|scan|check|sign`.
#
#   docker build -t ghcr.io/modelgate/modelgate:$(node -p 'require("./package.json").version') .
#
# Runtime: distroless Node.js 20 (no shell, no package manager), UID/GID 65532 "nonroot", which the
# Helm chart's securityContext expects (runAsNonRoot, readOnlyRootFilesystem, drop ALL). For
# reproducible builds pin both bases by digest (FROM image:tag@sha256:...).

ARG NODE_VERSION=20.20
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# --- build: compile TypeScript with the full dependency tree --------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# No dependency needs an install script (package.json allowScripts); never run any.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: runtime dependencies only ---------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /src
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts \
 && rm -rf node_modules/.package-lock.json

# --- runtime -------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="modelgate" \
      org.opencontainers.image.description="Admission controller and operator that keeps unverified ML models out of Kubernetes" \
      org.opencontainers.image.source="https://github.com/modelgate/modelgate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /app
ENV NODE_ENV=production
# Root-owned and read-only to the runtime user: nothing in /app is writable at run time.
COPY --from=prod-deps --chown=0:0 /src/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist ./dist
COPY --chown=0:0 package.json ./
COPY --chown=0:0 bin ./bin
# `modelgate` on PATH: the verifier init container the webhook injects runs command ["modelgate"]
# (src/mutation/verifier-container.ts). Distroless has no /usr/bin/env for bin/modelgate.js's shebang,
# so this launcher names the image's node; bin/modelgate.js then runs dist/cli/index.js.
COPY --chown=0:0 --chmod=0755 <<'LAUNCHER' /usr/local/bin/modelgate
#!/nodejs/bin/node
import('/app/bin/modelgate.js').catch((err) => {
  console.error(err);
  process.exit(1);
});
LAUNCHER
ENV PATH=/usr/local/bin:/nodejs/bin:/usr/bin:/bin
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/modelgate"]
CMD ["--help"]
