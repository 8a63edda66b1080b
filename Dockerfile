# One image for every coin: `docker run walletd btc`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/walletd ./cmd/daemon

FROM debian:bookworm-slim
RUN useradd --system --home /data walletd && mkdir -p /data && chown walletd /data
COPY --from=build /out/walletd /usr/local/bin/walletd
USER walletd
ENV IN_DOCKER=1
VOLUME /data
ENTRYPOINT ["/usr/local/bin/walletd"]
CMD ["btc"]
