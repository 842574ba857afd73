#!/usr/bin/env bash
# Whole-program TFTP throughput on loopback: this project's tftpd against
# tftp-hpa's in.tftpd, same file, same client, alternating A B A B, median of N.
#
#   scripts/bench-tftp.sh [RUNS] [SIZE_MIB]
#
# Needs curl, atftp and tftpd-hpa (`apt-get install curl atftp tftpd-hpa`).
# Prints a markdown table for docs/benchmarks.md. Traffic stays on 127.0.0.1.
# tftp-bench checks size and CRC-32 itself (--expect-file) and fails on any
# failed transfer (--strict); it does not dally (--dally-ms 0): curl and atftp
# exit at the last block too, and the time is the whole process's. For storms
# and the namespace-isolated runs against atftpd and dnsmasq too, see
# scripts/bench-storm.sh.
set -euo pipefail
runs=${1:-5}
size_mib=${2:-40}
here=$(cd "$(dirname "$0")/.." && pwd)
for t in curl atftp in.tftpd; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install curl atftp tftpd-hpa)" >&2; exit 1; }
done
cargo build --release -q -p tftpd -p netboot-benches --manifest-path "$here/Cargo.toml"
ours="$here/target/release/tftpd"
bench="$here/target/release/tftp-bench"

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/big.bin"
chmod 644 "$work/big.bin"

port_ours=$((20000 + RANDOM % 10000)); port_hpa=$((port_ours + 1))
"$ours" -L -a "127.0.0.1:$port_ours" -s "$work" 2>"$work/ours.log" & pids+=($!)
in.tftpd -L -a "127.0.0.1:$port_hpa" -s "$work" -u root 2>"$work/hpa.log" & pids+=($!)
sleep 0.5

# seconds for one command, checked for size
one() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

row() { # label, then a command template with PORT and OUT
  local label=$1; shift
  local a=() b=()
  for _ in $(seq "$runs"); do
    rm -f "$work/out"
    a+=("$(one "${@//PORT/$port_ours}")")
    cmp -s "$work/out" "$work/big.bin" || [ ! -e "$work/out" ] || { echo "ours: corrupt output for $label" >&2; exit 1; }
    rm -f "$work/out"
    b+=("$(one "${@//PORT/$port_hpa}")")
  done
  local ma mb mr
  ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
  # median of the pairwise ratios: each pair ran back to back, so drift cancels
  mr=$(for i in "${!a[@]}"; do awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN {printf "%.4f\n", y/x}'; done | sort -g | awk '{r[NR]=$1} END {print r[int((NR+1)/2)]}')
  awk -v l="$label" -v a="$ma" -v b="$mb" -v r="$mr" -v s="$size_mib" 'BEGIN {
    printf "| %s | %.1f | %.1f | %.2f |\n", l, s*1.048576/(a/1e6), s*1.048576/(b/1e6), r }'
}

echo "| client, options ($size_mib MiB, $runs alternating pairs) | tftpd MB/s (median) | in.tftpd MB/s (median) | speed ratio tftpd / in.tftpd (median of pairs) |"
echo "|---|---|---|---|"
row "curl blksize 1468 (lockstep)" curl -s --tftp-blksize 1468 -o "$work/out" tftp://127.0.0.1:PORT/big.bin
row "curl blksize 512" curl -s --tftp-blksize 512 -o "$work/out" tftp://127.0.0.1:PORT/big.bin
row "curl blksize 65464" curl -s --tftp-blksize 65464 -o "$work/out" tftp://127.0.0.1:PORT/big.bin
row "atftp blksize 1468 windowsize 16" atftp --option "blksize 1468" --option "windowsize 16" -g -r big.bin -l "$work/out" 127.0.0.1 PORT
row "tftp-bench blksize 1468 windowsize 16" "$bench" --server 127.0.0.1:PORT --file big.bin --blksize 1468 --windowsize 16 --rounds 1 --dally-ms 0 --expect-file "$work/big.bin" --strict
