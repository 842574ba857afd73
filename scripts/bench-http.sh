#!/usr/bin/env bash
# HTTP throughput on loopback: `tftpd --http` against nginx (sendfile on),
# the same file from the same directory, fetched with curl.
#
#   scripts/bench-http.sh [RUNS] [SIZE_MIB] [PARALLEL]
#
# Single client: RUNS fetches of the file from each server, alternating
# A B A B, MB/s from curl's own count; the median is printed. Parallel:
# PARALLEL curl clients at once, each fetching the whole file, RUNS times
# per server (alternating); aggregate MB/s = PARALLEL × size / wall time.
# Every download is checked for its size. Needs curl and nginx
# (`apt-get install curl nginx-light`). Prints a markdown table for
# docs/benchmarks.md. Traffic stays on 127.0.0.1.
set -euo pipefail
runs=${1:-5}
size_mib=${2:-256}
parallel=${3:-16}
here=$(cd "$(dirname "$0")/.." && pwd)
nginx=$(command -v nginx || echo /usr/sbin/nginx)
for t in curl "$nginx"; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install curl nginx-light)" >&2; exit 1; }
done
cargo build --release -q -p tftpd --manifest-path "$here/Cargo.toml"
ours="$here/target/release/tftpd"

work=$(mktemp -d)
chmod 755 "$work"
mkdir "$work/root"
chmod 755 "$work/root"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$work"; }
trap cleanup EXIT
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/root/big.img"
chmod 644 "$work/root/big.img"
size=$(stat -c %s "$work/root/big.img")

base=$((20000 + RANDOM % 10000))
port_tftp=$base; port_ours=$((base + 1)); port_nginx=$((base + 2))
"$ours" -L -a "127.0.0.1:$port_tftp" -u "$(id -un)" --http "127.0.0.1:$port_ours" \
  -s "$work/root" 2>"$work/ours.log" & pids+=($!)
cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 15s;
  default_type application/octet-stream;
  client_body_temp_path $work/tmp;
  server { listen 127.0.0.1:$port_nginx; root $work/root; }
}
CONF
"$nginx" -c "$work/nginx.conf" -p "$work" & pids+=($!)
sleep 0.5

url() { echo "http://127.0.0.1:$1/big.img"; }

# One fetch: prints MB/s; fails unless the whole file arrived.
single() {
  local out
  out=$(curl -sS -o /dev/null -w '%{size_download} %{speed_download}' "$(url "$1")")
  [ "${out% *}" = "$size" ] || { echo "short download from port $1: $out" >&2; return 1; }
  awk -v b="${out#* }" 'BEGIN { printf "%.1f\n", b / 1e6 }'
}

# PARALLEL fetches at once: prints the aggregate MB/s.
batch() {
  local start end i clients=()
  start=$(date +%s%N)
  for i in $(seq "$parallel"); do
    curl -sS -o /dev/null -w '%{size_download}\n' "$(url "$1")" > "$work/batch.$i" & clients+=($!)
  done
  wait "${clients[@]}" || true
  end=$(date +%s%N)
  for i in $(seq "$parallel"); do
    [ "$(cat "$work/batch.$i")" = "$size" ] || { echo "short download in batch from port $1" >&2; return 1; }
  done
  awk -v n="$parallel" -v s="$size" -v ns=$((end - start)) 'BEGIN { printf "%.1f\n", n * s / (ns / 1e9) / 1e6 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: > "$work/s.ours"; : > "$work/s.nginx"; : > "$work/p.ours"; : > "$work/p.nginx"
for _ in $(seq "$runs"); do
  single "$port_ours" >> "$work/s.ours"
  single "$port_nginx" >> "$work/s.nginx"
done
for _ in $(seq "$runs"); do
  batch "$port_ours" >> "$work/p.ours"
  batch "$port_nginx" >> "$work/p.nginx"
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "| server | 1 client, MB/s (median of $runs) | $parallel clients, aggregate MB/s (median of $runs) |"
echo "|---|---|---|"
echo "| tftpd --http | $(median < "$work/s.ours") | $(median < "$work/p.ours") |"
echo "| nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///') (sendfile) | $(median < "$work/s.nginx") | $(median < "$work/p.nginx") |"
echo
echo "file $size_mib MiB, $(nproc) cores, load average before the table: $load"
