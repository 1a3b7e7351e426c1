# vigil in a container: the same single binary `npm run build` makes, on a minimal Debian base,
# run as an unprivileged user. (Built and checked by reading here: no Docker engine runs on the
# development machines.)

FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && ./dist/vigil version

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
 && install -d -o vigil -g vigil -m 0700 /var/lib/vigil \
 && install -d -m 0755 /etc/vigil
COPY --from=build /src/dist/vigil /usr/local/bin/vigil
USER vigil
# DNS, API, metrics, gossip
EXPOSE 53/udp 53/tcp 8080/tcp 9090/tcp 7946/udp 7946/tcp
VOLUME ["/var/lib/vigil"]
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["--config", "/etc/vigil/vigil.yaml"]
