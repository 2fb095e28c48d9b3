# lb's image for the Kubernetes DaemonSet (config/kubernetes/lb-daemonset.yaml) or plain Docker, on the official
# Node.js 24 LTS image (Debian bookworm, slim). Build from a checkout:
#   docker build -t registry.example.com/lb:0.1.0 .
# It runs as the non-root user lb (uid/gid 65532) and binds ports below 1024 through one file capability,
# CAP_NET_BIND_SERVICE on the node binary: the container must keep that capability in its bounding set (the
# DaemonSet drops ALL and adds NET_BIND_SERVICE) and allow privilege escalation (no_new_privs would ignore the
# file capability; the bounding set still caps what can be gained at NET_BIND_SERVICE). The config is read from
# /etc/lb/lb.yaml (a ConfigMap in the DaemonSet). test/cli/dockerfile.test.ts checks these rules in CI.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency's download is not needed, the image has Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY examples ./examples
RUN npx tsc -b tsconfig.json && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends libcap2-bin \
  && setcap cap_net_bind_service=+ep /usr/local/bin/node \
  && apt-get purge -y libcap2-bin \
  && apt-get autoremove -y \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 65532 lb \
  && useradd --system --uid 65532 --gid lb --no-create-home --shell /usr/sbin/nologin lb
WORKDIR /opt/lb
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY config ./config
ENV NODE_ENV=production
# glibc's mmap threshold fixed at 128 KiB (src/process/malloc-tunable.ts).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072
USER 65532:65532
EXPOSE 80 443 9998
ENTRYPOINT ["node", "--max-semi-space-size=8", "/opt/lb/dist/src/main.js"]
CMD ["--config", "/etc/lb/lb.yaml"]
