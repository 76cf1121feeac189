# ddflare in a `FROM scratch` image: one static binary, no shell, no CA bundle (the roots are
# compiled in), running as an unprivileged user and configured by environment variables.
#
#   docker build -t ddflare .                        # compiles the static musl binary here
#   docker build -t ddflare --build-arg BINARY=prebuilt .
#                                                    # takes ./ddflare from the build context
#                                                    # (scripts/build-static); pulls no image
# Run it: docs/shipping.md, "With Docker or Compose"; docker-compose.yml is a complete example.

# Which stage provides /out/ddflare: `builder` (compile) or `prebuilt` (./ddflare).
ARG BINARY=builder

# --- builder: the static musl binary, built the way scripts/build-static builds it.
FROM docker.io/library/rust:1.95-slim-bookworm AS builder
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The commit `ddflare --version` names (the build context has no .git):
# --build-arg DDFLARE_COMMIT=$(git rev-parse --short=12 HEAD).
ARG DDFLARE_COMMIT=unknown
COPY . .
RUN . scripts/lib/build.sh \
    && bin=$(static_build "$(uname -m)") \
    && mkdir -p /out/state \
    && cp "$bin" /out/ddflare

# --- prebuilt: a binary already built (e.g. dist/ddflare-x86_64-linux-musl copied to ./ddflare).
FROM scratch AS prebuilt
WORKDIR /out/state
COPY ddflare /out/ddflare

# hadolint ignore=DL3006
FROM ${BINARY} AS binary

# --- the image.
FROM scratch
COPY --from=binary /out/ddflare /ddflare
# The cache and the heartbeat `ddflare health` reads: writable by the user below. Mount a
# volume here to keep the cache across container re-creations (no API call after a restart).
COPY --from=binary --chown=65532:65532 /out/state /var/lib/ddflare
# Run with `--user 0` anyway, ddflare drops root to the same user before its first request.
ENV DDFLARE_STATE_DIR=/var/lib/ddflare \
    DDFLARE_USER=65532:65532
USER 65532:65532
# ddflare is PID 1: it handles SIGTERM itself (the round in flight finishes, exit 0).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=1m --timeout=10s --start-period=2m --retries=3 CMD ["/ddflare", "health"]
ENTRYPOINT ["/ddflare"]
CMD ["run"]
LABEL org.opencontainers.image.title="ddflare" \
      org.opencontainers.image.description="Dynamic DNS daemon for Cloudflare: keeps A/AAAA records pointing at this host" \
      org.opencontainers.image.licenses="MIT"
