#!/usr/bin/env bash
# DHCP lease rate: dhcpd-pxe vs Kea (memfile) vs ISC dhcpd (ping-check false), and
# on a shared PostgreSQL lease database: dhcpd-pxe with one instance (pg), two
# instances (pg2) and Kea with its PostgreSQL backend (kea-pg), all on one
# throw-away PostgreSQL cluster (initdb in the temp dir, Unix socket only).
# perfdhcp in relay mode across a veth pair between two network namespaces
# (198.18.0.0/15 inside them only); for pg2 a second instance in a third
# namespace on its own veth pair, and two perfdhcp at half the rate each, one per
# instance (different client MACs), summed. For each server: the highest offered
# rate with under 2.5 % REQUEST-ACK drops (Kea's own method; pg2: the worse of the
# two), each rate run against a freshly started server with no leases (lease
# file removed, database tables emptied).
#
# Usage (root): scripts/bench-dhcp.sh [SECONDS_PER_RATE] [RATES...]
#   default: 4 s per rate; rates 25 50 100 150 200 250 300 500 1000 2000 ... 10000
# Env: SERVERS="dhcpd-pxe kea isc pg pg2 kea-pg" (subset), KEEP=1 keeps the temp dir,
#      POOL_END (default 198.18.160.255: 40,960 addresses from 198.18.1.0; ISC dhcpd
#      slows down with larger pools: 65,280 addresses already drop 3.6 % at 200/s).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-4}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(25 50 100 150 200 250 300 500 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000)
servers=${SERVERS:-"dhcpd-pxe kea isc pg pg2 kea-pg"}
pool_end=${POOL_END:-198.18.160.255}

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
for t in perfdhcp kea-dhcp4 dhcpd ip; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "missing $t: scripts/install-dhcp-peers" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin:/sbin"

cargo build --release -q -p dhcpd-pxe
bin=$PWD/target/release/dhcpd-pxe

tag=bd$$
S=${tag}s
S2=${tag}t
C=${tag}c
dir=$(mktemp -d)
chmod 755 "$dir"
server_pids=()
pg_bin=""
cleanup() {
    for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ -n "$pg_bin" ]; then runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true; fi
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$S2" 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    if [ -z "${KEEP:-}" ]; then rm -rf "$dir"; else echo "kept $dir"; fi
}
trap cleanup EXIT

ip netns add "$S"
ip netns add "$C"
ip link add vs0 netns "$S" type veth peer name vc0 netns "$C"
ip netns exec "$S" sh -c 'ip link set lo up && ip link set vs0 up && ip addr add 198.18.0.1/15 dev vs0'
ip netns exec "$C" sh -c 'ip link set lo up && ip link set vc0 up && ip addr add 198.18.0.2/15 dev vc0'
# The second instance (pg2): its own namespace and veth pair, /32 routes.
ip netns add "$S2"
ip link add vs1 netns "$S2" type veth peer name vc1 netns "$C"
ip netns exec "$S2" sh -c 'ip link set lo up && ip link set vs1 up && ip addr add 198.18.0.3/32 dev vs1 && ip route add 198.18.0.4/32 dev vs1'
ip netns exec "$C" sh -c 'ip link set vc1 up && ip addr add 198.18.0.4/32 dev vc1 && ip route add 198.18.0.3/32 dev vc1'

# One PostgreSQL server for every database-backed run: databases dhcp and kea.
psql() { command psql -X -q -h "$dir/pg" -U postgres "$@"; }
case " $servers " in *" pg "*|*" pg2 "*|*" kea-pg "*)
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    mkdir -p "$dir/pg"
    chown postgres "$dir/pg"
    runuser -u postgres -- "$pg_bin/initdb" -A trust -U postgres -E UTF8 -D "$dir/pg/data" >/dev/null
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w \
        -o "-c listen_addresses='' -k $dir/pg -c max_connections=50" start >/dev/null
    psql -d postgres -c 'CREATE DATABASE dhcp' -c 'CREATE DATABASE kea' >/dev/null
    "$bin" db init --url "host=$dir/pg user=postgres dbname=dhcp" >/dev/null
    kea-admin db-init pgsql -h "$dir/pg" -u postgres -p "" -n kea >"$dir/kea-admin.out" 2>&1 \
        || { cat "$dir/kea-admin.out"; exit 1; }
    ;;
esac

cat > "$dir/kea.json" <<JSON
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "vs0" ], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$dir/kea-leases.csv", "lfc-interval": 0 },
    "valid-lifetime": 4000,
    "subnet4": [ { "id": 1, "subnet": "198.18.0.0/15",
                   "pools": [ { "pool": "198.18.1.0 - $pool_end" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
                   "output_options": [ { "output": "$dir/kea.log" } ] } ]
} }
JSON

sed -e 's|"lease-database": {[^}]*}|"lease-database": { "type": "postgresql", "name": "kea", "host": "'"$dir/pg"'", "user": "postgres", "password": "" }|' \
    "$dir/kea.json" > "$dir/kea-pg.json"

pg_conf() { # NAME INTERFACE
    cat > "$dir/$1.toml" <<TOML
mode = "full"
interfaces = ["$2"]
lease_time = 4000
[[subnet]]
network = "198.18.0.0/15"
range = ["198.18.1.0-$pool_end"]
[[boot]]
file = "pxelinux.0"
[lease_store]
kind = "postgres"
url = "host=$dir/pg user=postgres dbname=dhcp"
instance = "$1"
TOML
}
pg_conf pg1 vs0
pg_conf pg2 vs1

cat > "$dir/dhcpd.conf" <<CONF
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 4000;
max-lease-time 4000;
subnet 198.18.0.0 netmask 255.254.0.0 {
  range 198.18.1.0 $pool_end;
}
CONF

start() {
    rm -f "$dir"/leases "$dir"/kea-leases.csv* "$dir"/dhcpd.leases* "$dir"/*.pid
    case $1 in
    pg|pg2)
        psql -d dhcp -c 'TRUNCATE dhcpd_pxe.lease' >/dev/null
        ip netns exec "$S" "$bin" --config "$dir/pg1.toml" >"$dir/dhcpd-pxe.log" 2>&1 &
        server_pids+=($!)
        if [ "$1" = pg2 ]; then
            ip netns exec "$S2" "$bin" --config "$dir/pg2.toml" >"$dir/dhcpd-pxe-2.log" 2>&1 &
            server_pids+=($!)
        fi
        ;;
    kea-pg)
        psql -d kea -c 'DELETE FROM lease4' >/dev/null
        KEA_PIDFILE_DIR=$dir KEA_LOCKFILE_DIR=$dir \
            ip netns exec "$S" kea-dhcp4 -c "$dir/kea-pg.json" >"$dir/kea.out" 2>&1 &
        server_pids+=($!)
        ;;
    dhcpd-pxe)
        ip netns exec "$S" "$bin" --interface vs0 --subnet 198.18.0.0/15 \
            --range "198.18.1.0-$pool_end" --lease-time 4000 --boot-file pxelinux.0 \
            --lease-file "$dir/leases" >"$dir/dhcpd-pxe.log" 2>&1 &
        server_pids+=($!)
        ;;
    kea)
        KEA_PIDFILE_DIR=$dir KEA_LOCKFILE_DIR=$dir \
            ip netns exec "$S" kea-dhcp4 -c "$dir/kea.json" >"$dir/kea.out" 2>&1 &
        server_pids+=($!)
        ;;
    isc)
        touch "$dir/dhcpd.leases"
        ip netns exec "$S" dhcpd -4 -f -q -cf "$dir/dhcpd.conf" -lf "$dir/dhcpd.leases" \
            -pf "$dir/dhcpd.pid" vs0 >"$dir/isc.out" 2>&1 &
        server_pids+=($!)
        ;;
    esac
    sleep 1.5
    for p in "${server_pids[@]}"; do
        kill -0 "$p" || { echo "$1 did not start"; cat "$dir"/*.out "$dir"/*.log 2>/dev/null; exit 1; }
    done
}

alive() {
    for p in "${server_pids[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
}

stop() {
    for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    server_pids=()
}

# One perfdhcp report's field: rate, drop (REQUEST-ACK drops ratio %), nonu.
field() {
    case $2 in
    rate) sed -n 's/^Rate: \([0-9.]*\).*/\1/p' "$1" ;;
    drop) awk '/Statistics for: REQUEST-ACK/{f=1} f&&/drops ratio/{print $3; exit}' "$1" ;;
    nonu) awk '/Statistics for: REQUEST-ACK/{f=1} f&&/non unique addresses/{print $4; exit}' "$1" ;;
    esac
}

printf '\n%-10s %8s %12s %12s %10s %8s\n' server offered 'exch/s' 'REQ-ACK drop%' 'non-unique' verdict
declare -A best
for srv in $servers; do
    best[$srv]="none"
    for r in "${rates[@]}"; do
        start "$srv"
        rep=$dir/perfdhcp-$srv-$r.txt
        if [ "$srv" = pg2 ]; then
            half=$(( (r + 1) / 2 ))
            ip netns exec "$C" perfdhcp -4 -r "$half" -R 1000000 -p "$secs" -b mac=02:a1:00:00:00:00 \
                -l 198.18.0.2 198.18.0.1 >"$rep.1" 2>&1 &
            p1=$!
            ip netns exec "$C" perfdhcp -4 -r "$half" -R 1000000 -p "$secs" -b mac=02:b2:00:00:00:00 \
                -l 198.18.0.4 198.18.0.3 >"$rep.2" 2>&1 || true
            wait "$p1" || true
            rate=$(awk -v a="$(field "$rep.1" rate)" -v b="$(field "$rep.2" rate)" 'BEGIN{print a + b}')
            drop=$(awk -v a="$(field "$rep.1" drop)" -v b="$(field "$rep.2" drop)" 'BEGIN{print (a > b) ? a : b}')
            nonu=$(awk -v a="$(field "$rep.1" nonu)" -v b="$(field "$rep.2" nonu)" 'BEGIN{print a + b}')
        else
            ip netns exec "$C" perfdhcp -4 -r "$r" -R 1000000 -p "$secs" -l 198.18.0.2 198.18.0.1 >"$rep" 2>&1 || true
            rate=$(field "$rep" rate); drop=$(field "$rep" drop); nonu=$(field "$rep" nonu)
        fi
        alive=yes; alive || alive=CRASHED
        stop
        ok=$(awk -v d="${drop:-100}" 'BEGIN{print (d < 2.5) ? "ok" : "over"}')
        [ "$alive" = yes ] || ok=$alive
        printf '%-10s %8s %12s %12s %10s %8s\n' "$srv" "$r" "${rate:-?}" "${drop:-?}" "${nonu:-?}" "$ok"
        case $srv in dhcpd-pxe|pg|pg2)
            # Group commit: fsyncs or transactions (batches) against acknowledged leases,
            # from the exit log line (pg2: both instances); refused: records another
            # instance had taken first.
            cat "$dir"/dhcpd-pxe*.log | grep -o 'commit_batches: [0-9]*, committed_records: [0-9]*\|refused: [0-9]*' \
                | paste -sd ' ' | sed 's/^/    /' || true
            rm -f "$dir"/dhcpd-pxe*.log
        esac
        if [ "$ok" != ok ]; then break; fi
        best[$srv]="$r offered, ${rate} exchanges/s"
    done
done
echo
for srv in $servers; do echo "$srv: highest rate under 2.5 % REQUEST-ACK drops: ${best[$srv]}"; done
