# syntax=docker/dockerfile:1
# dpgate for production: build the JavaScript in one stage, run it as a non-root user in another.
#   docker build -t dpgate .
#   docker run -p 8787:8787 -e DATABASE_URL=postgres://dpgate@db/commons -v ./policies:/app/policies:ro dpgate

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY clients/typescript ./clients/typescript
RUN npm run build --silent && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787 DPGATE_DATA_DIR=/data DPGATE_POLICY_DIR=/app/policies
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root bin ./bin
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root policies ./policies
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
