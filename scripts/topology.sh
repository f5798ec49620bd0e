#!/usr/bin/env bash
# The deployments around the test servers of scripts/test-dbs.sh, on loopback, data under
# $RETORT_DB_ROOT/topology (default /tmp/retort-test-dbs/topology). Installs the Debian
# packages when missing. Needs the PostgreSQL of scripts/test-dbs.sh running.
#
#   PgBouncer, transaction pooling, in front of that PostgreSQL    127.0.0.1:6432
#   a PostgreSQL hot standby of it (pg_basebackup, streaming)      127.0.0.1:5434
#   a MariaDB primary (binary log) and its replica (read_only=ON)  127.0.0.1:3309, :3310
#   a 3-node MariaDB Galera cluster (rsync state transfer)         127.0.0.1:3311, :3312, :3313
#
#   scripts/topology.sh start     start them and print the exports to eval
#   scripts/topology.sh stop      stop them
#   scripts/topology.sh galera    start the Galera cluster alone (no PostgreSQL needed)
#
# Galera's nodes run as the `mysql` user: the rsync state transfer writes the joiner's data
# folder as that user. Each node's group port is 10 apart from the next (4567, 4577, 4587)
# with its incremental-transfer port (+1) and state-transfer port (4444 + 10 i) in between,
# so no node's port falls on another's.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT="${RETORT_DB_ROOT:-/tmp/retort-test-dbs}"
TOP="$ROOT/topology"
PG_PORT="${RETORT_PG_PORT:-5433}"
BOUNCER_PORT=6432
STANDBY_PORT=5434
MY_PRIMARY_PORT=3309
MY_REPLICA_PORT=3310
GALERA_PORTS=(3311 3312 3313)

install_missing() {
    local want=()
    command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || want+=(pgbouncer)
    command -v mariadbd >/dev/null 2>&1 || want+=(mariadb-server)
    [ -e /usr/lib/galera/libgalera_smm.so ] || want+=(galera-4)
    command -v rsync >/dev/null 2>&1 || want+=(rsync)
    command -v ss >/dev/null 2>&1 || want+=(iproute2)
    if [ "${#want[@]}" -gt 0 ]; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${want[@]}" >/dev/null
    fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

wait_for() {
    local what="$1"
    shift
    for _ in $(seq 1 "${WAIT_TRIES:-300}"); do
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
    # A fast checkpoint: the default spread one paces its writes over minutes (92 s here).
    # A replication slot keeps the WAL the standby has not received yet: without one, a
    # burst of writes on the primary (the crash tests) recycles segments the standby still
    # needs, and it stops replaying for good.
    psql -h "$ROOT/pg" -p "$PG_PORT" -U postgres -q -At -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'retort_standby'" >/dev/null
    su postgres -c "$bin/pg_basebackup -h $ROOT/pg -p $PG_PORT -U postgres -D $TOP/standby/data -R -X stream -C -S retort_standby --checkpoint=fast --no-sync" >/dev/null
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

galera_node() {
    local i="$1" bootstrap="$2"
    local dir="$TOP/galera-$i" base=$((4557 + 10 * i)) peers=""
    for j in 1 2 3; do
        peers="$peers${peers:+,}127.0.0.1:$((4557 + 10 * j))"
    done
    mkdir -p "$dir/data"
    chown -R mysql:mysql "$dir"
    local extra=()
    if [ "$bootstrap" = 1 ]; then
        mariadb-install-db --no-defaults --user=mysql --datadir="$dir/data" \
            --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log"
        extra+=(--wsrep-new-cluster)
    fi
    mariadbd --no-defaults --user=mysql --datadir="$dir/data" --socket="$dir/mysqld.sock" \
        --port="${GALERA_PORTS[$((i - 1))]}" --bind-address=127.0.0.1 --skip-name-resolve \
        --pid-file="$dir/mysqld.pid" --log-error="$dir/err.log" --innodb-buffer-pool-size=64M \
        --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
        --wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so \
        --wsrep-cluster-name=retort --wsrep-cluster-address="gcomm://$peers" \
        --wsrep-node-name="node$i" --wsrep-node-address="127.0.0.1:$base" \
        --wsrep-provider-options="base_port=$base;ist.recv_addr=127.0.0.1:$((base + 1));gcache.size=32M" \
        --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((4434 + 10 * i))" \
        "${extra[@]}" </dev/null >/dev/null 2>&1 &
    # A joiner's state transfer can take longer than a plain start.
    WAIT_TRIES=1200 wait_for "Galera node $i" galera_synced "$i"
}

galera_root() {
    local i="$1"
    shift
    mariadb --no-defaults --socket="$TOP/galera-$i/mysqld.sock" -uroot "$@"
}

galera_synced() {
    [ "$(galera_root "$1" -N --batch -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'")" = Synced ]
}

start_galera() {
    galera_node 1 1
    galera_root 1 -e "CREATE DATABASE retort; CREATE USER 'retort'@'%' IDENTIFIED BY 'retort'; GRANT ALL ON *.* TO 'retort'@'%';"
    galera_node 2 0
    galera_node 3 0
    [ "$(galera_root 3 -N --batch -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'")" = 3 ]
}

galera_urls() {
    echo "export RETORT_GALERA_URL=mysql://retort:retort@127.0.0.1:${GALERA_PORTS[0]}/retort"
    echo "export RETORT_GALERA_NODE2_URL=mysql://retort:retort@127.0.0.1:${GALERA_PORTS[1]}/retort"
    echo "export RETORT_GALERA_NODE3_URL=mysql://retort:retort@127.0.0.1:${GALERA_PORTS[2]}/retort"
}

stop_galera() {
    # The last node down is the one the cluster can start again from; it is started afresh anyway.
    for i in 3 2 1; do
        local dir="$TOP/galera-$i"
        if [ -f "$dir/mysqld.pid" ]; then
            local pid
            pid="$(cat "$dir/mysqld.pid")"
            galera_root "$i" -e "SHUTDOWN" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 300); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    done
}

start() {
    install_missing
    stop >/dev/null 2>&1 || true
    rm -rf "$TOP"
    mkdir -p "$TOP"
    start_bouncer
    start_standby
    start_replication
    start_galera
    echo "export RETORT_BOUNCER_URL=postgres://retort:retort@127.0.0.1:$BOUNCER_PORT/retort"
    echo "export RETORT_PG_STANDBY_URL=postgres://retort:retort@127.0.0.1:$STANDBY_PORT/retort"
    echo "export RETORT_MYSQL_PRIMARY_URL=mysql://retort:retort@127.0.0.1:$MY_PRIMARY_PORT/retort"
    echo "export RETORT_MYSQL_REPLICA_URL=mysql://retort:retort@127.0.0.1:$MY_REPLICA_PORT/retort"
    galera_urls
}

stop() {
    if [ -f "$TOP/bouncer/pgbouncer.pid" ]; then
        kill "$(cat "$TOP/bouncer/pgbouncer.pid")" 2>/dev/null || true
    fi
    if [ -d "$TOP/standby/data" ]; then
        su postgres -c "$(pg_bin)/pg_ctl -D $TOP/standby/data -m fast -w stop" >/dev/null 2>&1 || true
    fi
    stop_galera
    for name in my-replica my-primary; do
        if [ -S "$TOP/$name/mysqld.sock" ]; then
            mariadb-admin --no-defaults --socket="$TOP/$name/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || true
        fi
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    galera)
        install_missing
        stop_galera >/dev/null 2>&1 || true
        rm -rf "$TOP"/galera-*
        mkdir -p "$TOP"
        start_galera
        galera_urls
        ;;
    *)
        echo "usage: $0 start | stop" >&2
        exit 2
        ;;
esac
