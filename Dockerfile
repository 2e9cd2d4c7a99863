# The api and the projector in one image: `node dist/apps/api/src/main.js` (the default) or
# `node dist/apps/projector/src/main.js`. docker-compose.yml runs both from it.
# Node 24 is the active LTS line; package.json's `engines` says what the dependencies need.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json swc.config.js nest-cli.json ./
COPY scripts ./scripts
COPY libs ./libs
COPY apps ./apps
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# Only what runs in production: the dev tools (and the embedded PostgreSQL of `npm start`) stay out.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# The api's liveness; docker-compose.yml gives the projector its own (its port is PROJECTOR_HTTP_PORT).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/api/src/main.js"]
