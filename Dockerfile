# syntax=docker/dockerfile:1
# Workload Variant Autoscaler controller manager image.
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse --short=12 HEAD) -t IMG .
# Multi-arch: the build stages run on the build platform (the output is platform-independent JavaScript and
# every production dependency is pure JavaScript); only the runtime stage is per target platform.

ARG NODE_IMAGE=docker.io/library/node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# ---- production dependencies only --------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- compile TypeScript and stamp version, commit and build date --------------------------------------
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src ./src
ARG VERSION=""
ARG COMMIT=unknown
ARG BUILD_DATE=""
ENV WVA_COMMIT=${COMMIT} \
    WVA_BUILD_DATE=${BUILD_DATE}
# A VERSION build arg (vX.Y.Z) becomes the version the binary reports.
RUN if [ -n "${VERSION}" ]; then npm pkg set "version=${VERSION#v}"; fi \
 && node scripts/build.mjs \
 && npm pkg delete scripts devDependencies

# ---- runtime: distroless Node.js LTS, non-root --------------------------------------------------------
FROM ${RUNTIME_IMAGE}
ARG VERSION=""
ARG COMMIT=unknown
ARG BUILD_DATE=""
LABEL org.opencontainers.image.title="workload-variant-autoscaler" \
      org.opencontainers.image.description="Workload Variant Autoscaler (WVA) - cost-aware autoscaler for LLM inference servers" \
      org.opencontainers.image.source="https://github.com/llm-d-incubation/workload-variant-autoscaler" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}"
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8081 8443
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=32", "/app/dist/src/cli/manager.js"]
