# syntax=docker/dockerfile:1
# dialogwatch: build with the Rust toolchain, run on a slim base as a non-root user.

FROM rust:1-slim-bookworm AS build
# make: tikv-jemalloc-sys builds jemalloc (the allocator, src/allocator.rs).
RUN apt-get update && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that source edits do not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
COPY worker/Cargo.toml worker/Cargo.toml
COPY proto proto
RUN mkdir -p src worker/src worker/benches benches \
 && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
 && echo '' > worker/src/lib.rs && echo 'fn main() {}' > worker/benches/extract.rs \
 && echo 'fn main() {}' > benches/service.rs \
 && mkdir -p tests && echo '' > tests/tests.rs \
 && cargo build --release --locked --bin dialogwatch || true
COPY . .
RUN touch src/main.rs src/lib.rs worker/src/lib.rs \
 && cargo build --release --locked --bin dialogwatch \
 && strip target/release/dialogwatch

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin dialogwatch \
 && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /src/target/release/dialogwatch /usr/local/bin/dialogwatch
USER 10001
VOLUME ["/data"]
ENV DIALOGWATCH_DATA_DIR=/data \
    DIALOGWATCH_LISTEN=0.0.0.0:50051 \
    DIALOGWATCH_METRICS_LISTEN=0.0.0.0:9464 \
    DIALOGWATCH_LOG_FORMAT=json
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["dialogwatch", "health", "--server", "http://127.0.0.1:50051"]
ENTRYPOINT ["dialogwatch"]
CMD ["serve"]
