#!/usr/bin/env bash
# list --check against 200 signed-in sandbox sessions behind --latency 100, compared with
# 200 sequential `tgsess check` runs. Loopback only.
#   scripts/bench_list_check.sh [N] [LATENCY_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
LAT=${2:-100}
cargo build --quiet
T=$PWD/target/debug/tgsess
W=$(mktemp -d)
trap 'kill $SB 2>/dev/null; rm -rf "$W"' EXIT
export HOME=$W/home TGSESS_STATE_DIR=$W/state
mkdir -p "$HOME"
start() { "$T" sandbox --dir "$W/sb" "$@" > "$W/sb.out" & SB=$!
  for _ in $(seq 100); do grep -q listening "$W/sb.out" 2>/dev/null && break; sleep 0.05; done; }
start
mkdir -p "$W/sessions"
for i in $(seq "$N"); do
  echo 22222 | "$T" --config "$W/sb/tgsess.toml" --session-dir "$W/sessions" --username "bot$i" \
    login --code-stdin --fresh > /dev/null
done
kill $SB; wait $SB 2>/dev/null || true
start --latency "$LAT"     # accounts and sign-ins survive a restart on the same directory
cfg=(--config "$W/sb/tgsess.toml" --session-dir "$W/sessions")
now() { date +%s.%N; }
for jobs in 8 64; do
  t0=$(now); "$T" "${cfg[@]}" list --check --jobs "$jobs" --timeout 60 | tail -1; t1=$(now)
  echo "list --check --jobs $jobs: $(echo "$t1 - $t0" | bc) s"
done
t0=$(now)
for i in $(seq "$N"); do "$T" "${cfg[@]}" --username "bot$i" check -q; done
t1=$(now)
echo "$N sequential tgsess check: $(echo "$t1 - $t0" | bc) s"
