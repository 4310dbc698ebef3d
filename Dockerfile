# syntax=docker/dockerfile:1

# ssehub: a static binary on distroless, running as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t ssehub .
#   docker run --rm -p 8080:8080 -e SSEHUB_JWT_SECRET=$(openssl rand -hex 32) ssehub
#   docker run --rm --network host -e SSEHUB_ADDR=127.0.0.1:8080 -e SSEHUB_DEV=true ssehub  # to try it: dev mode, loopback only
#
# The image listens on 0.0.0.0:8080 (SSEHUB_ADDR). Configure it with
# SSEHUB_* variables or mount a config file and pass --config; see
# docs/configuration.md and docs/operations.md.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# .git is not in the build context (.dockerignore), so the version comes
# from the build argument rather than from VCS stamping.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
      -ldflags="-s -w -X github.com/ssehub/ssehub/internal/server.Version=${VERSION}" \
      -o /out/ssehub ./cmd/ssehub

# static: no libc, no shell; nonroot: uid and gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ssehub /usr/local/bin/ssehub
USER 65532:65532
# Listen on every interface; never fall back to dev mode (a generated
# secret and demo tokens): without a key the container exits with an error.
ENV SSEHUB_ADDR=0.0.0.0:8080 \
    SSEHUB_DEV=false
# 8080: streams and the API; 9090: /metrics when --metrics-addr=0.0.0.0:9090.
EXPOSE 8080 9090
# No HEALTHCHECK: distroless has no curl. Probe GET /healthz and /readyz
# from the orchestrator (see deploy/ and docs/operations.md).
ENTRYPOINT ["/usr/local/bin/ssehub"]
CMD ["serve"]
