# syntax=docker/dockerfile:1
# Build: type-check with dev dependencies; run: production dependencies only, non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json --noEmit

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/src ./src
COPY --from=build /app/bin ./bin
COPY config ./config
# Certificates, keys and the deployment's configuration are mounted, never baked in:
#   -v /etc/partner-gateway:/etc/partner-gateway:ro -e GATEWAY_CONFIG=/etc/partner-gateway/gateway.json
USER node
# 8443: partner listener; 9443: control plane (admin API, /metrics), keep it off partner networks (RULES 43)
EXPOSE 8443 9443
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "const fs=require('fs'),https=require('https');const c=JSON.parse(fs.readFileSync(process.env.GATEWAY_CONFIG,'utf8'));const ca=c.server&&c.server.tls&&c.server.tls.ca;https.get({host:'localhost',port:(c.server&&c.server.port)||8443,path:'/healthz',ca:ca?fs.readFileSync(ca):undefined},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "bin/partner-gateway.js"]
CMD ["serve"]
