#!/usr/bin/env bash
# TFTP boot-storm benchmark (root): N clients fetch one file at once from this
# project's tftpd, tftp-hpa's in.tftpd, atftpd and dnsmasq's TFTP. Each server
# is started fresh, alone, on 127.0.0.1:69 inside a private network namespace
# this script creates (dnsmasq serves port 69 only), in a cgroup of its own so
# the CPU of forked children counts. Servers alternate within each repetition
# (the order rotates from one repetition to the next). The clients are tokio
# tasks in one tftp-bench process, which checks size and CRC-32 of every file.
#
#   scripts/bench-storm.sh [storm] [--clients N] [--blksize B] [--windowsize W]
#       [--size-mib S] [--reps R] [--loss PCT] [--pin] [--servers a,b,..]
#   scripts/bench-storm.sh lockstep [--pairs N] [--size-mib S] [--blksize 1468,65464] [--pin]
#   scripts/bench-storm.sh ceiling  [--size-mib S] [--pin]
#   scripts/bench-storm.sh table FILE.csv   (the storm table again from a CSV)
#
# storm     (default) the table above, per server: wall time, aggregate MB/s,
#           failed transfers, peak VmRSS / RssAnon / VmPTE summed over the
#           server's processes, server CPU seconds per GiB served; medians over
#           the repetitions and ratios to the best peer.
# lockstep  one curl client, tftpd and in.tftpd alternating, median of N pairs.
# ceiling   iperf3 -u one-way UDP rate on loopback at 1468- and 65464-byte
#           datagrams, beside one tftp-bench client against tftpd (blksize 1468
#           windowsize 16/64/256; blksize 65464 windowsize 1/4/16), and the
#           same rows with atftp as the client.
#
# Options:  --windowsize 1 sends no windowsize option (what BIOS ROMs and
#           pxelinux do). --loss PCT drops PCT % of UDP datagrams on input
#           inside the namespace with nftables (both directions: on loopback
#           every datagram passes input). --pin puts servers on CPU 0 and
#           clients on CPU 1 (taskset). --nice N (default -10) runs the whole
#           benchmark in its own session and autogroup at that nice.
#           --out DIR keeps results (default target/bench-storm/<time>).
# Env:      TFTPD_BIN, TFTP_BENCH_BIN (skip the cargo build), ATFTPD_BIN.
# Prints a markdown table for docs/benchmarks.md and writes it with a CSV of
# every run to the output directory. Traffic stays inside the namespace.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
mode=storm
case "${1:-}" in storm|lockstep|ceiling) mode=$1; shift ;; table) mode=table; storm_csv=${2:?table needs a CSV file}; shift 2 ;; esac
clients=200 blksize=1468 windowsize=4 size_mib=32 reps=3 loss=0 pin=0 nice=-10
servers="tftpd,in.tftpd,atftpd,dnsmasq" pairs=11 curl_blksizes="1468,65464" out=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --clients) clients=$2; shift ;;
    --blksize) blksize=$2; curl_blksizes=$2; shift ;;
    --windowsize) windowsize=$2; shift ;;
    --size-mib) size_mib=$2; shift ;;
    --reps) reps=$2; shift ;;
    --pairs) pairs=$2; shift ;;
    --loss) loss=$2; shift ;;
    --pin) pin=1 ;;
    --nice) nice=$2; shift ;;
    --servers) servers=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# Median of numbers, one a line (the mean of the middle two for an even count).
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else if (NR) print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The markdown rows of a storm CSV: medians per server over the repetitions,
# failures summed, ratios to the best peer. Also: scripts/bench-storm.sh table FILE.csv
storm_table() { # csv
  local csv=$1 tmp name
  tmp=$(mktemp -d)
  echo "| server | wall s | aggregate MB/s | × best peer (MB/s) | failed / transfers | peak VmRSS MiB | peak RssAnon MiB | peak VmPTE MiB | server CPU s per GiB | × best peer (CPU) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk -F, 'NR > 1 { print $2 }' "$csv" | awk '!seen[$0]++' | while read -r name; do
    awk -F, -v s="$name" 'NR > 1 && $2 == s' "$csv" > "$tmp/rows"
    printf '%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$name" \
      "$(cut -d, -f10 "$tmp/rows" | median)" "$(cut -d, -f11 "$tmp/rows" | median)" \
      "$(awk -F, '{ f += $14; t += $12 } END { print f "/" t }' "$tmp/rows")" \
      "$(cut -d, -f23 "$tmp/rows" | median)" "$(cut -d, -f24 "$tmp/rows" | median)" \
      "$(cut -d, -f25 "$tmp/rows" | median)" "$(cut -d, -f22 "$tmp/rows" | median)" ""
  done > "$tmp/summary"
  # Best peer: the highest aggregate and the lowest CPU per GiB among the others.
  awk -F, '
    { n[NR] = $0; agg[NR] = $3; cpu[NR] = $8; name[NR] = $1 }
    END {
      for (i = 1; i <= NR; i++) if (name[i] != "tftpd") {
        if (agg[i] > bagg) bagg = agg[i]
        if (cpu[i] != "nan" && (bcpu == "" || cpu[i] < bcpu)) bcpu = cpu[i]
      }
      for (i = 1; i <= NR; i++) {
        split(n[i], f, ",")
        ra = (bagg > 0) ? sprintf("%.2f", f[3] / bagg) : "-"
        rc = (bcpu > 0 && f[8] != "nan") ? sprintf("%.2f", f[8] / bcpu) : "-"
        printf "| %s | %.2f | %.1f | %s | %s | %.1f | %.1f | %.2f | %.2f | %s |\n",
          f[1], f[2], f[3], ra, f[4], f[5] / 1024, f[6] / 1024, f[7] / 1024, f[8], rc
      }
    }' "$tmp/summary"
  rm -rf "$tmp"
}

if [ "$mode" = table ]; then storm_table "$storm_csv"; exit 0; fi
[ "$(id -u)" -eq 0 ] || { echo "bench-storm.sh needs root (namespaces, cgroups, port 69)" >&2; exit 1; }

# Own session and autogroup at a lower nice: the scheduler then weighs this
# benchmark against other work on the machine as one group. The parent only
# waits and passes on INT/TERM; the child cleans up after itself.
if [ -z "${BENCH_STORM_SESSION:-}" ]; then
  export BENCH_STORM_SESSION=1
  setsid "$0" "$mode" "${orig_args[@]}" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
  rc=0; wait "$child" || rc=$?
  # A second wait if the first was interrupted by the trap.
  wait "$child" 2>/dev/null || true
  exit "$rc"
fi
if [ "$nice" != 0 ]; then
  renice -n "$nice" -p $$ >/dev/null
  if [ -w /proc/self/autogroup ]; then echo "$nice" > /proc/self/autogroup || true; fi
fi

for t in ip ss nft taskset curl atftp in.tftpd dnsmasq iperf3; do
  command -v "$t" >/dev/null || { echo "missing $t: scripts/install-tftp-peers" >&2; exit 1; }
done
atftpd=${ATFTPD_BIN:-/opt/netboot-peers/atftpd/usr/sbin/atftpd}
if [ -z "${TFTPD_BIN:-}" ] || [ -z "${TFTP_BENCH_BIN:-}" ]; then
  cargo build --release -q -p tftpd -p netboot-benches --bin tftpd --bin tftp-bench \
    --manifest-path "$here/Cargo.toml"
fi
tftpd=${TFTPD_BIN:-$here/target/release/tftpd}
bench=${TFTP_BENCH_BIN:-$here/target/release/tftp-bench}
out=${out:-$here/target/bench-storm/$(date -u +%Y%m%dT%H%M%SZ)-$mode}
mkdir -p "$out"

ns=nbstorm$$
work=$(mktemp -d /tmp/bench-storm.XXXXXX)
cg_mount=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
cg_base=""
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$cg_base" ] && [ -d "$cg_base" ]; then
    for g in "$cg_base"/*/; do
      [ -d "$g" ] || continue
      [ -e "$g/cgroup.kill" ] && echo 1 > "$g/cgroup.kill"
      for _ in $(seq 50); do rmdir "$g" 2>/dev/null && break; sleep 0.1; done
    done
    rmdir "$cg_base"
  fi
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# in.tftpd's address lookup (AI_ADDRCONFIG) wants an address besides 127.0.0.1.
ip netns exec "$ns" ip addr add 198.18.0.1/32 dev lo
if [ "$loss" != 0 ]; then
  ip netns exec "$ns" nft add table inet bench_loss
  ip netns exec "$ns" nft add chain inet bench_loss in '{ type filter hook input priority 0; }'
  ip netns exec "$ns" nft add rule inet bench_loss in meta l4proto udp numgen random mod 100 '<' "$loss" drop
fi
if [ -n "$cg_mount" ] && mkdir "$cg_mount/netboot-bench-$$" 2>/dev/null; then
  cg_base=$cg_mount/netboot-bench-$$
  cpu_source="cgroup v2 cpu.stat of the server's own cgroup (children included)"
else
  cpu_source="utime+stime+cutime+cstime of the server process (no writable cgroup v2: children that are never reaped, such as in.tftpd's, are NOT counted)"
fi

chmod 755 "$work"
mkdir -m 755 "$work/root"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/root/big.bin"
chmod 644 "$work/root/big.bin"

server_taskset=() client_taskset=() tftpd_extra=()
if [ "$pin" = 1 ]; then server_taskset=(taskset -c 0); client_taskset=(taskset -c 1); fi

# The command line of server $1 listening on 127.0.0.1:$2, into the array cmd.
server_cmd() {
  local root=$work/root
  case $1 in
    tftpd) cmd=("$tftpd" -L -a "127.0.0.1:$2" -u root "${tftpd_extra[@]}" -s "$root") ;;
    in.tftpd) cmd=(in.tftpd -L -a "127.0.0.1:$2" -u root -s "$root") ;;
    atftpd) cmd=("$atftpd" --daemon --no-fork --logfile /dev/null --port "$2"
                 --bind-address 127.0.0.1 --maxthread 1000 --retry-timeout 1
                 --user root --group root "$root") ;;
    dnsmasq) cmd=(dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --enable-tftp
                  "--tftp-root=$root" --tftp-max=1000 --listen-address=127.0.0.1 --bind-interfaces
                  --user=root --group=root --pid-file= "--log-facility=$work/dnsmasq.log") ;;
    *) echo "unknown server $1" >&2; return 1 ;;
  esac
}

# Starts server $1 on port $2 in the namespace (in cgroup dir $3 if given);
# sets server_pid. Waits until the port is bound.
start_server() {
  local name=$1 port=$2 cg=${3:-}
  server_cmd "$name" "$port"
  # Into the cgroup first: `ip netns exec` mounts a /sys of its own, without
  # the cgroup file systems.
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
  sh -c 'if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs" || exit 1; fi; shift; exec "$@"' \
    sh "$cg" ip netns exec "$ns" "${server_taskset[@]}" "${cmd[@]}" >"$work/$name.out" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 100); do
    if [ -n "$(ip netns exec "$ns" ss -Hlun "sport = :$port")" ]; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start on port $port; its output:" >&2
  cat "$work/$name.out" >&2
  return 1
}

stop_server() { # pid [cgroup dir]
  kill "$1" 2>/dev/null || true
  if [ -n "${2:-}" ] && [ -e "$2/cgroup.kill" ]; then echo 1 > "$2/cgroup.kill"; fi
  wait "$1" 2>/dev/null || true
}

# CPU seconds of the server so far.
cpu_seconds() { # pid cgroup-dir
  if [ -n "$2" ]; then
    awk '$1 == "usage_usec" { printf "%.3f\n", $2 / 1e6 }' "$2/cpu.stat"
  else
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
  fi
}

# Samples VmRSS, RssAnon and VmPTE summed over the server's processes (the
# cgroup's, or the process and its children) every 0.2 s until $4 exists;
# writes the peak of each sum (KiB) to $3.
sample_memory() { # pid cgroup-dir outfile stopfile
  local pid=$1 cg=$2 outf=$3 stop=$4 list
  local peak_rss=0 peak_anon=0 peak_pte=0 line r a p i
  # One sample at least, then until told to stop.
  for i in $(seq 30000); do
    [ "$i" -gt 1 ] && [ -e "$stop" ] && break
    if [ -n "$cg" ]; then list=$(cat "$cg/cgroup.procs" 2>/dev/null); else list="$pid $(cat "/proc/$pid/task/"*/children 2>/dev/null)"; fi
    # shellcheck disable=SC2086
    line=$(for q in $list; do cat "/proc/$q/status" 2>/dev/null || true; done |
      awk '/^VmRSS:/ { r += $2 } /^RssAnon:/ { a += $2 } /^VmPTE:/ { p += $2 } END { print r + 0, a + 0, p + 0 }')
    read -r r a p <<<"$line"
    [ "$r" -gt "$peak_rss" ] && peak_rss=$r
    [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    [ "$p" -gt "$peak_pte" ] && peak_pte=$p
    sleep 0.2
  done
  echo "$peak_rss $peak_anon $peak_pte" > "$outf"
}

# One line on how busy the machine is: load average and what used the CPU
# over the last half second (top's second sample), our own processes included.
machine_state() { # label
  local busy
  busy=$(top -b -n 2 -d 0.5 -w 200 2>/dev/null | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 5 { printf "%s%s %s%%", (k++ ? ", " : ""), $12, $9 }')
  echo "- $1: $(date -u +%H:%M:%SZ), loadavg $(cut -d' ' -f1-3 /proc/loadavg), $(pgrep -c -x rustc || true) rustc running; CPU over 0.5 s: ${busy:-idle}"
}


# ---------------------------------------------------------------- storm
run_storm() {
  local csv=$out/storm.csv md=$out/storm.md
  local -a list order
  IFS=, read -r -a list <<<"$servers"
  local ws_args=()
  [ "$windowsize" != 1 ] && ws_args=(--windowsize "$windowsize")
  echo "mode,server,rep,clients,blksize,windowsize,size_mib,loss_pct,pin,wall_s,aggregate_mbps,transfers,ok,failed,timed_out,corrupt,transfer_s_median,transfer_s_p95,transfer_s_max,client_timeouts,cpu_s,cpu_s_per_gib,peak_vmrss_kib,peak_rssanon_kib,peak_vmpte_kib" > "$csv"
  local state_before
  state_before=$(machine_state "before")
  local rep i k sampler name cg port=69 cpu0 cpu1 row mem
  for rep in $(seq "$reps"); do
    # Rotate the order each repetition so no server always runs first.
    order=()
    for i in "${!list[@]}"; do order+=("${list[$(( (i + rep - 1) % ${#list[@]} ))]}"); done
    for name in "${order[@]}"; do
      cg=""
      if [ -n "$cg_base" ]; then cg=$cg_base/$name-$rep; mkdir "$cg"; fi
      start_server "$name" "$port" "$cg"
      sleep 0.3
      cpu0=$(cpu_seconds "$server_pid" "$cg")
      rm -f "$work/stop" "$work/mem"
      sample_memory "$server_pid" "$cg" "$work/mem" "$work/stop" &
      sampler=$!; pids+=("$sampler")
      # In the background and waited for, so INT/TERM interrupt at once.
      ip netns exec "$ns" "${client_taskset[@]}" "$bench" --server "127.0.0.1:$port" \
        --file big.bin --expect-file "$work/root/big.bin" --blksize "$blksize" "${ws_args[@]}" \
        --clients "$clients" --format csv > "$out/client-$name-$rep.csv" &
      k=$!; pids+=("$k"); wait "$k"
      row=$(tail -n 1 "$out/client-$name-$rep.csv")
      cpu1=$(cpu_seconds "$server_pid" "$cg")
      touch "$work/stop"; wait "$sampler" || true
      mem=$(cat "$work/mem" 2>/dev/null || echo "nan nan nan")
      stop_server "$server_pid" "$cg"
      if [ -n "$cg" ]; then for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done; fi
      # tftp-bench CSV: 1 blksize 2 windowsize 3 clients 5 transfers 6 ok 7 failed
      # 8 timed_out 10 corrupt 12 bytes_ok 13 wall_s 14 aggregate_mbps 15-17 transfer s
      # 19 client_timeouts
      awk -F, -v s="$name" -v rep="$rep" -v c0="$cpu0" -v c1="$cpu1" -v mem="$mem" \
          -v ws="$windowsize" -v mib="$size_mib" -v loss="$loss" -v pin="$pin" '{
        split(mem, m, " "); cpu = c1 - c0; gib = $12 / 1073741824
        printf "storm,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.3f,%s,%s,%s,%s\n",
          s, rep, $3, $1, ws, mib, loss, pin, $13, $14, $5, $6, $7, $8, $10, $15, $16, $17, $19,
          cpu, (gib > 0 ? sprintf("%.3f", cpu / gib) : "nan"), m[1], m[2], m[3] }' <<<"$row" >> "$csv"
      tail -n 1 "$csv" >&2
      grep -o '"[^"]\+"$' <<<"$row" >&2 || true
      sleep 1
    done
  done
  local state_after
  state_after=$(machine_state "after")
  {
    local ws_label="windowsize $windowsize"
    [ "$windowsize" = 1 ] && ws_label="no windowsize option (lockstep)"
    echo "$clients clients × $size_mib MiB, blksize $blksize, $ws_label$( [ "$loss" != 0 ] && echo ", $loss % of UDP datagrams dropped on input")$( [ "$pin" = 1 ] && echo ", servers on CPU 0 and clients on CPU 1"), median of $reps repetitions (servers alternating), nice $nice."
    echo
    storm_table "$csv"
    echo
    echo "Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)."
    echo "$state_before"
    echo "$state_after"
    echo "- CPU: $cpu_source. Peak memory: VmRSS, RssAnon and VmPTE each summed over the server's processes, sampled every 0.2 s; VmRSS counts mapped file pages once per mapping."
    echo "- Client: one tftp-bench process, $clients tokio tasks, size and CRC-32 of every transfer checked; × best peer is tftpd (or each server) over the best of the other servers."
  } > "$md"
  cat "$md"
  echo
  echo "CSV of every run: $csv" >&2
}

# ---------------------------------------------------------------- lockstep
run_lockstep() {
  local md=$out/lockstep.md csv=$out/lockstep.csv b i t_ours t_hpa
  start_server tftpd 6969; local p_ours=$server_pid
  start_server in.tftpd 6970; local p_hpa=$server_pid
  local state_before
  state_before=$(machine_state "before")
  echo "blksize,pair,tftpd_s,in_tftpd_s" > "$csv"
  # One curl transfer: prints seconds, fails on a short file.
  one() { # port blksize
    local r
    r=$(ip netns exec "$ns" "${client_taskset[@]}" curl -s --tftp-blksize "$2" -o /dev/null \
          -w '%{size_download} %{time_total}' "tftp://127.0.0.1:$1/big.bin")
    [ "${r%% *}" = $((size_mib * 1024 * 1024)) ] || { echo "curl on port $1: short transfer ($r)" >&2; return 1; }
    echo "${r##* }"
  }
  IFS=, read -r -a bl <<<"$curl_blksizes"
  for b in "${bl[@]}"; do
    # The first pair also checks content byte for byte.
    ip netns exec "$ns" curl -s --tftp-blksize "$b" -o "$work/check" tftp://127.0.0.1:6969/big.bin
    cmp -s "$work/check" "$work/root/big.bin" || { echo "tftpd: content differs at blksize $b" >&2; exit 1; }
    rm -f "$work/check"
    for i in $(seq "$pairs"); do
      t_ours=$(one 6969 "$b"); t_hpa=$(one 6970 "$b")
      echo "$b,$i,$t_ours,$t_hpa" >> "$csv"
    done
  done
  local state_after
  state_after=$(machine_state "after")
  stop_server "$p_ours"; stop_server "$p_hpa"
  {
    echo "One curl client, $size_mib MiB, tftpd and in.tftpd alternating, median of $pairs pairs$( [ "$pin" = 1 ] && echo ", servers on CPU 0 and curl on CPU 1"), nice $nice."
    echo
    echo "| curl blksize | tftpd MB/s | in.tftpd MB/s | tftpd / in.tftpd (median of pair ratios) |"
    echo "|---|---|---|---|"
    for b in "${bl[@]}"; do
      awk -F, -v b="$b" '$1 == b' "$csv" > "$work/rows"
      awk -F, -v mib="$size_mib" -v b="$b" \
          -v a="$(cut -d, -f3 "$work/rows" | median)" -v h="$(cut -d, -f4 "$work/rows" | median)" \
          -v r="$(awk -F, '{ printf "%.4f\n", $4 / $3 }' "$work/rows" | median)" \
          'BEGIN { printf "| %s | %.1f | %.1f | %.2f |\n", b, mib * 1.048576 / a, mib * 1.048576 / h, r }'
    done
    echo
    echo "$state_before"
    echo "$state_after"
  } > "$md"
  cat "$md"
}

# ---------------------------------------------------------------- ceiling
# One ceiling row for atftp as the client: 3 transfers of big.bin at blksize
# $1 and windowsize $2, each checked against the original; prints the median
# MB/s and how many of the 3 failed (a timeout of 120 s counts as failed).
atftp_row() {
  local b=$1 w=$2 i s e rates=() failed=0
  for i in 1 2 3; do
    rm -f "$work/atftp.out"
    s=$(date +%s.%N)
    if ip netns exec "$ns" "${client_taskset[@]}" timeout 120 atftp --option "blksize $b" --option "windowsize $w" \
        -g -r big.bin -l "$work/atftp.out" 127.0.0.1 69 >/dev/null 2>&1 && cmp -s "$work/atftp.out" "$work/root/big.bin"; then
      e=$(date +%s.%N)
      rates+=("$(awk -v s="$s" -v e="$e" -v n="$(stat -c %s "$work/root/big.bin")" 'BEGIN { printf "%.1f", n / (e - s) / 1e6 }')")
    else
      failed=$((failed + 1))
    fi
  done
  printf '| atftp → tftpd | %s | %s | %s (%s of 3 failed) |\n' "$b" "$w" \
    "$(printf '%s\n' "${rates[@]:-0}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" "$failed"
}

run_ceiling() {
  local md=$out/ceiling.md
  local state_before
  state_before=$(machine_state "before")
  # shellcheck disable=SC2016
  ip netns exec "$ns" "${server_taskset[@]}" iperf3 -s -p 5201 >"$work/iperf3.out" 2>&1 &
  local p_iperf=$!; pids+=("$p_iperf")
  for _ in $(seq 100); do [ -n "$(ip netns exec "$ns" ss -Hltn 'sport = :5201')" ] && break; sleep 0.05; done
  {
    echo "One-way UDP on loopback (iperf3 -u -b 0, 5 s, rate received) beside one tftp-bench client against \`tftpd -W 256\` ($size_mib MiB, median of 3 transfers)$( [ "$pin" = 1 ] && echo ", server side on CPU 0 and client side on CPU 1"), nice $nice."
    echo
    echo "| sender | datagram / blksize | windowsize asked | MB/s |"
    echo "|---|---|---|---|"
    local l mbit
    for l in 1468 65464; do
      # The receiver's rate and the share of datagrams it lost: with -b 0 the
      # sender can overrun the receiver, so the rate received is the ceiling.
      read -r mbit lost < <(ip netns exec "$ns" "${client_taskset[@]}" iperf3 -c 127.0.0.1 -p 5201 -u -b 0 -l "$l" -t 5 -f m |
        awk '/receiver/ { for (i = 1; i <= NF; i++) { if ($i == "Mbits/sec") m = $(i - 1); if ($i ~ /^\(.*%\)$/) p = $i } print m, p }')
      awk -v l="$l" -v m="$mbit" -v p="$lost" 'BEGIN { printf "| iperf3 | %s | - | %.1f (%s of datagrams lost) |\n", l, m / 8, p }'
    done
    stop_server "$p_iperf"
    # -W 256: tftpd grants windows up to 64 unless told otherwise.
    tftpd_extra=(-W 256)
    start_server tftpd 69
    tftpd_extra=()
    local p=$server_pid spec b w
    for spec in 1468:16 1468:64 1468:256 65464:1 65464:4 65464:16; do
      b=${spec%:*} w=${spec#*:}
      ip netns exec "$ns" "${client_taskset[@]}" "$bench" --file big.bin --expect-file "$work/root/big.bin" \
        --blksize "$b" --windowsize "$w" --rounds 3 --format csv | tail -n 1 |
        awk -F, '{ printf "| tftp-bench → tftpd | %s | %s | %.1f (%s of %s failed) |\n", $1, $2, $18, $7, $5 }'
    done
    # The same rows with atftp as the client: its wall time per transfer
    # (process start and the write of the file included), median of 3.
    for spec in 1468:16 1468:64 1468:256 65464:1 65464:4 65464:16; do
      b=${spec%:*} w=${spec#*:}
      atftp_row "$b" "$w"
    done
    stop_server "$p"
    echo
    echo "$state_before"
    machine_state "after"
  } > "$md"
  cat "$md"
}

case $mode in
  storm) run_storm ;;
  lockstep) run_lockstep ;;
  ceiling) run_ceiling ;;
esac
