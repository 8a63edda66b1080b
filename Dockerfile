# walletd: one image and one binary for every coin. The argument picks the
# daemon: `docker run walletd btc` (the default), `docker run walletd ltc`.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t walletd .
#
# The build needs no BuildKit feature: the module download is a layer of its
# own, cached until go.mod or go.sum change, and .dockerignore admits only
# what `go build ./cmd/daemon` reads (no tests, docs or tooling), so editing
# those never rebuilds the image. See README.md, "Running with containers".
FROM golang:1.26-bookworm AS build
WORKDIR /src
# A static binary: the runtime image needs no libc of a particular version.
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is stamped into the binary: `walletd version`, getinfo's
# walletd_version, version_info and GET /spec report it (empty: the built-in
# version).
ARG VERSION=
# The compile cache is dropped: a later build never reuses this layer's, and
# keeping it would leave hundreds of MB behind in every build's layer.
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/walletd ./cmd/daemon \
	&& /out/walletd version && go clean -cache

FROM debian:bookworm-slim
# A fixed, non-root uid/gid, so a store volume keeps its owner across
# upgrades. /data is the only place walletd writes: the container can run
# with a read-only root filesystem.
RUN groupadd --system --gid 999 walletd \
	&& useradd --system --uid 999 --gid walletd --home-dir /data --no-create-home --shell /usr/sbin/nologin walletd \
	&& mkdir -p /data && chown walletd:walletd /data && chmod 0700 /data
COPY --from=build /out/walletd /usr/local/bin/walletd
# The CA roots of the build image (Debian's ca-certificates), so TLS to
# CA-signed servers verifies (public Electrum servers; a node behind a
# public certificate); a node's own certificate is <COIN>_SERVER_CERT.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
USER 999:999
# IN_DOCKER binds 0.0.0.0 (the published port); HOME puts the default data
# path (<HOME>/.config/walletd/<coin>/<network>) in the volume.
ENV IN_DOCKER=1 HOME=/data
VOLUME /data
# Bitcart's ports: BTC 5000, LTC 5001, BCH 5004.
EXPOSE 5000 5001 5004
# Liveness, with the binary itself (the image has no curl): GET /healthz on
# the running coin's port. `walletd healthcheck -ready` probes /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/walletd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/walletd"]
CMD ["btc"]
# Last, so a new version only changes this layer.
ARG VERSION=
LABEL org.opencontainers.image.title="walletd" \
	org.opencontainers.image.description="Wallet daemons for payment processors (BitcartCC daemon contract)" \
	org.opencontainers.image.version="${VERSION}"
