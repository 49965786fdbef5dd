# syntax=docker/dockerfile:1
#
# rustlb container image.
#   docker build -t rustlb:0.1.0 .
#   docker run --rm -p 8080:8080 -p 9090:9090 \
#     -v "$PWD/config.yaml:/etc/rustlb/config.yaml:ro" rustlb:0.1.0
# See docs/operations.md ("Docker") for reloads, rustlb-ctl and stop timeouts.

# ---- build: install with the lockfile, compile, pack the npm tarball --------------------
FROM node:24-slim AS build
WORKDIR /src
COPY . .
# `npm ci` installs exactly the lockfile and builds (the `prepare` script runs `tsc -b`).
RUN npm ci --no-audit --no-fund \
 && npm pack --ignore-scripts --pack-destination /pkg \
 && mv /pkg/rustlb-*.tgz /pkg/rustlb.tgz

# ---- runtime: Node LTS slim, the package installed globally, a non-root user -----------
FROM node:24-slim

# PID 1: tini (Debian's package). As PID 1 a process gets no default signal handling and
# must reap every orphan re-parented to it. rustlb's primary handles SIGTERM/SIGINT/SIGHUP
# itself and reaps its own workers, but not orphans of other processes (a `docker exec`
# session, anything a health check leaves behind), and `docker run --init` is not
# guaranteed. tini forwards signals to rustlb only (not to the process group: the primary
# decides when and how its workers drain) and exits with its exit code. `-s` keeps it
# reaping when it is not PID 1 (e.g. under `docker run --init`).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# A numeric, dedicated user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 rustlb \
 && useradd --system --uid 10001 --gid rustlb --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin rustlb

# The tarball bundles every dependency: installing it needs no network.
COPY --from=build /pkg/rustlb.tgz /tmp/rustlb.tgz
RUN npm install -g --offline --no-audit --no-fund /tmp/rustlb.tgz \
 && rm /tmp/rustlb.tgz \
 && npm cache clean --force

# The configuration (mount yours over it) and the directory of the control socket
# (global.admin.socket: /run/rustlb/rustlb.sock): `docker exec <ctr> rustlb-ctl status`.
COPY deploy/docker/config.yaml /etc/rustlb/config.yaml
RUN mkdir -p /run/rustlb && chown rustlb:rustlb /run/rustlb

ENV NODE_ENV=production \
    RUSTLB_HEALTH_URL=http://127.0.0.1:9090/livez

USER 10001:10001
# 8080: the example frontend; 9090: /metrics, /livez, /readyz (global.metrics.address).
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
# Liveness of the primary (never depends on backends). slim has no curl: node's fetch.
# A config with another metrics address sets RUSTLB_HEALTH_URL (docker run -e ...).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.RUSTLB_HEALTH_URL,{signal:AbortSignal.timeout(2500)}).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "rustlb"]
CMD ["--config", "/etc/rustlb/config.yaml"]
