# The reference service in a container: it upgrades its database at start (with the
# migration lock, so several replicas may start at once), then serves on port 8000.
#
#   docker build -t records .
#   docker run -d -p 8000:8000 -v records-data:/data records                      # SQLite in /data
#   docker run -d -p 8000:8000 -e DB_URL=postgres://app:secret@db:5432/app records
#
# Build stage: the release binary with every backend (SQLite is compiled in; PostgreSQL's
# libpq is built from source; MySQL/MariaDB links the system's client library).
ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends default-libmysqlclient-dev pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin records --features postgres,mysql \
 && install -m 0755 target/release/records /usr/local/bin/records

# Runtime stage: what the binary links (libmariadb3, OpenSSL), curl for the health check,
# and the servers' dump tools for RETORT_BACKUP=1; a non-root user owning /data.
FROM ${RUNTIME_IMAGE} AS runtime-base
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 libssl3 ca-certificates curl \
        postgresql-client mariadb-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --create-home records
ENV DB_URL=sqlite:////data/records.db \
    RECORDS_ADDR=0.0.0.0:8000 \
    RETORT_BACKUP_DIR=/data/backups
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${RECORDS_ADDR##*:}/health" | grep -q '"at_head":true' || exit 1
USER records
# `serve` upgrades then serves; `migrate` only upgrades (an init container or a job);
# `db <verb>` is the migration CLI.
ENTRYPOINT ["/usr/local/bin/records"]
CMD ["serve"]

FROM runtime-base AS runtime
COPY --from=build /usr/local/bin/records /usr/local/bin/records
