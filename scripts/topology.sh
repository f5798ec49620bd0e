#!/usr/bin/env bash
# The deployments around the test servers of scripts/test-dbs.sh, on loopback, data under
# $RETORT_DB_ROOT/topology (default /tmp/retort-test-dbs/topology). Installs the Debian
# packages when missing. Needs the PostgreSQL of scripts/test-dbs.sh running.
#
#   PgBouncer, transaction pooling, in front of that PostgreSQL    127.0.0.1:6432
#   a PostgreSQL hot standby of it (pg_basebackup, streaming)      127.0.0.1:5434
#   a MariaDB primary (binary log) and its replica (read_only=ON)  127.0.0.1:3309, :3310
#
#   scripts/topology.sh start     start them and print the exports to eval
#   scripts/topology.sh stop      stop them
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT="${RETORT_DB_ROOT:-/tmp/retort-test-dbs}"
TOP="$ROOT/topology"
PG_PORT="${RETORT_PG_PORT:-5433}"
BOUNCER_PORT=6432
STANDBY_PORT=5434
MY_PRIMARY_PORT=3309
MY_REPLICA_PORT=3310

install_missing() {
    local want=()
    command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || want+=(pgbouncer)
    command -v mariadbd >/dev/null 2>&1 || want+=(mariadb-server)
    if [ "${#want[@]}" -gt 0 ]; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${want[@]}" >/dev/null
    fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

wait_for() {
    local what="$1"
    shift
    for _ in $(seq 1 300); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "topology: $what did not come up" >&2
    return 1
}

start_bouncer() {
    mkdir -p "$TOP/bouncer"
    cat >"$TOP/bouncer/userlist.txt" <<EOF
"retort" "retort"
EOF
    cat >"$TOP/bouncer/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir = $TOP/bouncer
auth_type = scram-sha-256
auth_file = $TOP/bouncer/userlist.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 400
server_idle_timeout = 3600
ignore_startup_parameters = extra_float_digits,options
logfile = $TOP/bouncer/pgbouncer.log
pidfile = $TOP/bouncer/pgbouncer.pid
EOF
    chown -R postgres:postgres "$TOP/bouncer"
    # PgBouncer does not run as root.
    su postgres -c "/usr/sbin/pgbouncer -d $TOP/bouncer/pgbouncer.ini"
    wait_for "PgBouncer" env PGPASSWORD=retort psql -h 127.0.0.1 -p "$BOUNCER_PORT" -U retort -d retort -Atc "SELECT 1"
}

start_standby() {
    local bin
    bin="$(pg_bin)"
    mkdir -p "$TOP/standby"
    chown postgres:postgres "$TOP/standby"
    su postgres -c "$bin/pg_basebackup -h $ROOT/pg -p $PG_PORT -U postgres -D $TOP/standby/data -R -X stream --no-sync" >/dev/null
    su postgres -c "$bin/pg_ctl -D $TOP/standby/data -l $TOP/standby/server.log -o '-p $STANDBY_PORT -k $TOP/standby -c listen_addresses=127.0.0.1 -c hot_standby=on' -w start" >/dev/null
}

my_start() {
    local name="$1" port="$2" id="$3"
    shift 3
    mkdir -p "$TOP/$name"
    mariadb-install-db --no-defaults --user=root --datadir="$TOP/$name/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$TOP/$name/install.log"
    mariadbd --no-defaults --user=root --datadir="$TOP/$name/data" --socket="$TOP/$name/mysqld.sock" \
        --port="$port" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$TOP/$name/mysqld.pid" \
        --log-error="$TOP/$name/err.log" --server-id="$id" "$@" </dev/null >/dev/null 2>&1 &
    wait_for "MariaDB $name" mariadb-admin --no-defaults --socket="$TOP/$name/mysqld.sock" -uroot ping
}

my_root() {
    local name="$1"
    shift
    mariadb --no-defaults --socket="$TOP/$name/mysqld.sock" -uroot "$@"
}

start_replication() {
    my_start my-primary "$MY_PRIMARY_PORT" 1 --log-bin="$TOP/my-primary/binlog" --binlog-format=ROW
    my_root my-primary -e "CREATE USER 'repl'@'%' IDENTIFIED BY 'repl'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
        CREATE DATABASE retort; CREATE USER 'retort'@'%' IDENTIFIED BY 'retort'; GRANT ALL ON *.* TO 'retort'@'%';"
    my_start my-replica "$MY_REPLICA_PORT" 2 --read-only=ON --relay-log="$TOP/my-replica/relay"
    # The primary's log from its start: the replica replays the users and database too.
    my_root my-replica -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MY_PRIMARY_PORT, MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=no, MASTER_LOG_FILE='binlog.000001', MASTER_LOG_POS=4; START SLAVE;"
    wait_for "the MariaDB replica's copy of the primary" my_root my-replica -e "SELECT 1 FROM mysql.user WHERE user = 'retort'" -N --batch
    [ "$(my_root my-replica -N --batch -e "SELECT COUNT(*) FROM mysql.user WHERE user = 'retort'")" = 1 ]
}

start() {
    install_missing
    stop >/dev/null 2>&1 || true
    rm -rf "$TOP"
    mkdir -p "$TOP"
    start_bouncer
    start_standby
    start_replication
    echo "export RETORT_BOUNCER_URL=postgres://retort:retort@127.0.0.1:$BOUNCER_PORT/retort"
    echo "export RETORT_PG_STANDBY_URL=postgres://retort:retort@127.0.0.1:$STANDBY_PORT/retort"
    echo "export RETORT_MYSQL_PRIMARY_URL=mysql://retort:retort@127.0.0.1:$MY_PRIMARY_PORT/retort"
    echo "export RETORT_MYSQL_REPLICA_URL=mysql://retort:retort@127.0.0.1:$MY_REPLICA_PORT/retort"
}

stop() {
    if [ -f "$TOP/bouncer/pgbouncer.pid" ]; then
        kill "$(cat "$TOP/bouncer/pgbouncer.pid")" 2>/dev/null || true
    fi
    if [ -d "$TOP/standby/data" ]; then
        su postgres -c "$(pg_bin)/pg_ctl -D $TOP/standby/data -m fast -w stop" >/dev/null 2>&1 || true
    fi
    for name in my-replica my-primary; do
        if [ -S "$TOP/$name/mysqld.sock" ]; then
            mariadb-admin --no-defaults --socket="$TOP/$name/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || true
        fi
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start | stop" >&2
        exit 2
        ;;
esac
