# syntax=docker/dockerfile:1
# Build: type-check and compile src/ to dist/ with dev dependencies; run: dist/ and production
# dependencies only (plain node, no TypeScript at run time), non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, copied below; it runs explicitly after.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY test ./test
COPY bench ./bench
# Type-check everything (tests and benches too), then compile src/ alone to dist/.
RUN npx tsc -p tsconfig.json --noEmit && npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (no tsx, no TypeScript); --ignore-scripts: no `prepare` build here,
# the compiled dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY config/default.json ./config/default.json
# Certificates, keys and the deployment's configuration are mounted, never baked in:
#   -v /etc/partner-gateway:/etc/partner-gateway:ro -e GATEWAY_CONFIG=/etc/partner-gateway/gateway.json
# Relative paths in that file resolve against its directory (the health check below does the same).
# A full example with Redis Sentinel: deploy/compose (deploy/README.md).
USER node
# 8443: partner listener; 9443: control plane (admin API, /metrics), keep it off partner networks (RULES 43)
EXPOSE 8443 9443
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "const fs=require('fs'),https=require('https'),path=require('path');const f=process.env.GATEWAY_CONFIG;const c=JSON.parse(fs.readFileSync(f,'utf8'));const ca=c.server&&c.server.tls&&c.server.tls.ca;https.get({host:'localhost',port:(c.server&&c.server.port)||8443,path:'/healthz',ca:ca?fs.readFileSync(path.resolve(path.dirname(f),ca)):undefined},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "bin/partner-gateway.js"]
CMD ["serve"]
