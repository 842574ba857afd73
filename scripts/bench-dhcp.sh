#!/usr/bin/env bash
# DHCP lease rate: dhcpd-pxe vs Kea (memfile) vs ISC dhcpd (ping-check false), with
# perfdhcp in relay mode across a veth pair between two network namespaces
# (198.18.0.0/15 inside them only). For each server: the highest offered rate with
# under 2.5 % REQUEST-ACK drops (Kea's own method), each rate run against a freshly
# started server with an empty lease file.
#
# Usage (root): scripts/bench-dhcp.sh [SECONDS_PER_RATE] [RATES...]
#   default: 4 s per rate; rates 25 50 100 150 200 250 300 500 1000 2000 ... 10000
# Env: SERVERS="dhcpd-pxe kea isc" (subset), KEEP=1 keeps the temp dir,
#      POOL_END (default 198.18.160.255: 40,960 addresses from 198.18.1.0; ISC dhcpd
#      slows down with larger pools: 65,280 addresses already drop 3.6 % at 200/s).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-4}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(25 50 100 150 200 250 300 500 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000)
servers=${SERVERS:-"dhcpd-pxe kea isc"}
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
C=${tag}c
dir=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    if [ -z "${KEEP:-}" ]; then rm -rf "$dir"; else echo "kept $dir"; fi
}
trap cleanup EXIT

ip netns add "$S"
ip netns add "$C"
ip link add vs0 netns "$S" type veth peer name vc0 netns "$C"
ip netns exec "$S" sh -c 'ip link set lo up && ip link set vs0 up && ip addr add 198.18.0.1/15 dev vs0'
ip netns exec "$C" sh -c 'ip link set lo up && ip link set vc0 up && ip addr add 198.18.0.2/15 dev vc0'

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
    dhcpd-pxe)
        ip netns exec "$S" "$bin" --interface vs0 --subnet 198.18.0.0/15 \
            --range "198.18.1.0-$pool_end" --lease-time 4000 --boot-file pxelinux.0 \
            --lease-file "$dir/leases" >"$dir/dhcpd-pxe.log" 2>&1 &
        ;;
    kea)
        KEA_PIDFILE_DIR=$dir KEA_LOCKFILE_DIR=$dir \
            ip netns exec "$S" kea-dhcp4 -c "$dir/kea.json" >"$dir/kea.out" 2>&1 &
        ;;
    isc)
        touch "$dir/dhcpd.leases"
        ip netns exec "$S" dhcpd -4 -f -q -cf "$dir/dhcpd.conf" -lf "$dir/dhcpd.leases" \
            -pf "$dir/dhcpd.pid" vs0 >"$dir/isc.out" 2>&1 &
        ;;
    esac
    server_pid=$!
    sleep 1.5
    kill -0 "$server_pid" || { echo "$1 did not start"; cat "$dir"/*.out "$dir"/*.log 2>/dev/null; exit 1; }
}

stop() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

printf '\n%-10s %8s %12s %12s %10s %8s\n' server offered 'exch/s' 'REQ-ACK drop%' 'non-unique' verdict
declare -A best
for srv in $servers; do
    best[$srv]="none"
    for r in "${rates[@]}"; do
        start "$srv"
        out=$(ip netns exec "$C" perfdhcp -4 -r "$r" -R 1000000 -p "$secs" -l 198.18.0.2 198.18.0.1 2>&1 || true)
        alive=yes; kill -0 "$server_pid" 2>/dev/null || alive=CRASHED
        stop
        echo "$out" > "$dir/perfdhcp-$srv-$r.txt"
        rate=$(echo "$out" | sed -n 's/^Rate: \([0-9.]*\).*/\1/p')
        drop=$(echo "$out" | awk '/Statistics for: REQUEST-ACK/{f=1} f&&/drops ratio/{print $3; exit}')
        nonu=$(echo "$out" | awk '/Statistics for: REQUEST-ACK/{f=1} f&&/non unique addresses/{print $4; exit}')
        ok=$(awk -v d="${drop:-100}" 'BEGIN{print (d < 2.5) ? "ok" : "over"}')
        [ "$alive" = yes ] || ok=$alive
        printf '%-10s %8s %12s %12s %10s %8s\n' "$srv" "$r" "${rate:-?}" "${drop:-?}" "${nonu:-?}" "$ok"
        if [ "$srv" = dhcpd-pxe ]; then
            # Group commit: fsyncs (batches) against acknowledged leases, from the exit log line.
            grep -o 'commit_batches: [0-9]*, committed_records: [0-9]*' "$dir/dhcpd-pxe.log" | sed 's/^/    /' || true
        fi
        if [ "$ok" != ok ]; then break; fi
        best[$srv]="$r offered, ${rate} exchanges/s"
    done
done
echo
for srv in $servers; do echo "$srv: highest rate under 2.5 % REQUEST-ACK drops: ${best[$srv]}"; done
