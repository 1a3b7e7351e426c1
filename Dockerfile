# vigil in a container: the same single binary scripts/build.ts makes for the release, run from a
# minimal Debian base as an unprivileged user. Not built here (no Docker engine runs on the
# development machines); see docs/release.md for what was checked and how.
#
#   docker build --build-arg VIGIL_COMMIT=$(git rev-parse --short=12 HEAD) -t vigil .
#   docker run -d --name vigil -p 53:53/udp -p 53:53/tcp -p 8080:8080 \
#     -v /srv/vigil/vigil.yaml:/etc/vigil/vigil.yaml:ro -v vigil-data:/var/lib/vigil vigil
#
# The config must have data_dir /var/lib/vigil (the default), and for the health check an API on
# port 8080 (api.address "0.0.0.0:8080", with api.token or api.read_only) that allows 127.0.0.0/8
# (the default api.allowed_networks).

# --- build: the binary, exactly as `npm run build` makes it --------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The project's pinned bun comes from npm. Scripts are skipped for every package but bun (whose
# postinstall puts the runtime in place): better-sqlite3 is only the Node test driver, and
# building it would need a compiler.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild bun
COPY tsconfig.json ./
COPY scripts/build.ts scripts/
COPY src/ src/
# The build context has no .git: the commit comes in as a build argument ("unknown" without one).
ARG VIGIL_COMMIT=""
RUN VIGIL_COMMIT="$VIGIL_COMMIT" npm run build && ./dist/vigil version

# --- run: glibc and the binary, nothing else -------------------------------------------------------
FROM debian:bookworm-slim
# A fixed uid/gid, so a bind-mounted data directory can be given to it: chown 10001:10001 DIR.
# (useradd warns that 10001 is above SYS_UID_MAX; expected, and harmless.)
RUN groupadd --system --gid 10001 vigil \
 && useradd --system --uid 10001 --gid vigil --no-create-home --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
 && install -d -o vigil -g vigil -m 0700 /var/lib/vigil \
 && install -d -m 0755 /etc/vigil
COPY --from=build /src/dist/vigil /usr/local/bin/vigil
# Numeric, so an orchestrator can see that it is not root (Kubernetes runAsNonRoot).
USER 10001:10001
WORKDIR /var/lib/vigil
VOLUME ["/var/lib/vigil"]
# DNS, API, metrics, gossip. Binding 53 as a non-root user works because Docker sets
# net.ipv4.ip_unprivileged_port_start=0 in a container's own network namespace (not with
# --network host), and ICMP probes work through net.ipv4.ping_group_range, also set by Docker.
EXPOSE 53/udp 53/tcp 8080/tcp 9090/tcp 7946/udp 7946/tcp
# `vigil health` GETs /api/v1/health and exits 0 only on {"status":"ok"}; the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/vigil", "health", "--api", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["--config", "/etc/vigil/vigil.yaml"]
