#!/usr/bin/env bash
# Throwaway database servers for the test suite: PostgreSQL (15, as the `postgres` user) and
# MariaDB (as root), on loopback, data under $RETORT_DB_ROOT (default /tmp/retort-test-dbs),
# and around them the deployments of scripts/topology.sh (PgBouncer, a hot standby, a
# MariaDB primary with its replica, a 3-node Galera cluster). Installs them from Debian
# packages when missing.
#
#   scripts/test-dbs.sh run <command…>   start them, export RETORT_PG_URL, RETORT_MYSQL_URL and
#                                        the topology's URLs, run the command, stop them all;
#                                        exits with its status
#   scripts/test-dbs.sh start            start them and print the exports to eval
#   scripts/test-dbs.sh stop             stop them
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT="${RETORT_DB_ROOT:-/tmp/retort-test-dbs}"
PG_PORT="${RETORT_PG_PORT:-5433}"
MY_PORT="${RETORT_MYSQL_PORT:-3307}"

install_missing() {
    local want=()
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || want+=(postgresql)
    command -v mariadbd >/dev/null 2>&1 || want+=(mariadb-server)
    # What the tests link: libmysqlclient for diesel's `mysql` (found through pkg-config).
    command -v pkg-config >/dev/null 2>&1 || want+=(pkg-config)
    pkg-config --exists mysqlclient 2>/dev/null || want+=(default-libmysqlclient-dev)
    if [ "${#want[@]}" -gt 0 ]; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${want[@]}" >/dev/null
    fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

start() {
    install_missing
    stop >/dev/null 2>&1 || true
    rm -rf "$ROOT"
    mkdir -p "$ROOT/pg" "$ROOT/my"
    chown postgres:postgres "$ROOT/pg"
    local bin
    bin="$(pg_bin)"
    # PostgreSQL refuses to run as root.
    su postgres -c "$bin/initdb -D $ROOT/pg/data -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync" >"$ROOT/pg/initdb.log"
    su postgres -c "$bin/pg_ctl -D $ROOT/pg/data -l $ROOT/pg/server.log -o '-p $PG_PORT -k $ROOT/pg -c listen_addresses=127.0.0.1 -c fsync=off' -w start" >/dev/null
    psql -h "$ROOT/pg" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q \
        -c "CREATE ROLE retort LOGIN PASSWORD 'retort' CREATEDB" -c "CREATE DATABASE retort OWNER retort"
    mariadb-install-db --no-defaults --user=root --datadir="$ROOT/my/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$ROOT/my/install.log"
    mariadbd --no-defaults --user=root --datadir="$ROOT/my/data" --socket="$ROOT/my/mysqld.sock" \
        --port="$MY_PORT" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$ROOT/my/mysqld.pid" \
        --log-error="$ROOT/my/err.log" </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 200); do
        mariadb-admin --no-defaults --socket="$ROOT/my/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    mariadb --no-defaults --socket="$ROOT/my/mysqld.sock" -uroot -e \
        "CREATE DATABASE retort; CREATE USER 'retort'@'%' IDENTIFIED BY 'retort'; GRANT ALL ON *.* TO 'retort'@'%';"
    echo "export RETORT_PG_URL=postgres://retort:retort@127.0.0.1:$PG_PORT/retort"
    echo "export RETORT_MYSQL_URL=mysql://retort:retort@127.0.0.1:$MY_PORT/retort"
    # The deployments around them (PgBouncer, a standby, a replica, Galera): their URLs too.
    RETORT_DB_ROOT="$ROOT" RETORT_PG_PORT="$PG_PORT" bash "$(dirname "$0")/topology.sh" start
}

stop() {
    RETORT_DB_ROOT="$ROOT" bash "$(dirname "$0")/topology.sh" stop >/dev/null 2>&1 || true
    if [ -d "$ROOT/pg/data" ]; then
        su postgres -c "$(pg_bin)/pg_ctl -D $ROOT/pg/data -m fast -w stop" >/dev/null 2>&1 || true
    fi
    if [ -S "$ROOT/my/mysqld.sock" ]; then
        mariadb-admin --no-defaults --socket="$ROOT/my/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || true
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    run)
        shift
        eval "$(start)"
        trap stop EXIT
        set +e
        "$@"
        status=$?
        exit "$status"
        ;;
    *)
        echo "usage: $0 run <command…> | start | stop" >&2
        exit 2
        ;;
esac
