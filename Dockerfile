# The irsa-anywhere image: the standalone CLI (one file, every dependency inside it) on Node 24
# LTS, run as uid 65532, the user the examples' pods run as. Build from the repository root:
#   docker build -t registry.example.com/irsa-anywhere:0.1.0 .
# Stage 1 builds the repository (.dockerignore keeps the host's node_modules, dist and .git out);
# stage 2 gets the one file it built and no npm dependency at all. Both stages follow the Node 24
# line and Debian 12 by tag; pin a digest (node:24-bookworm-slim@sha256:...) to rebuild byte for
# byte.
FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install --global --no-fund --no-audit pnpm@10.34.8
COPY . .
RUN pnpm install --frozen-lockfile && pnpm run build

FROM node:24-bookworm-slim
COPY --from=build /src/packages/cli/dist/standalone/irsa-anywhere.cjs /app/irsa-anywhere.cjs
USER 65532:65532
ENV NO_COLOR=1
ENTRYPOINT ["node", "/app/irsa-anywhere.cjs"]
CMD ["--help"]
