#!/usr/bin/env bash
# A benchmark, not a test: `tgsess list --check` of N signed-in sandbox sessions behind
# --latency MS (default: 200 and 2000 sessions, 100 ms), with the default options, three runs
# each; wall time, peak RSS of tgsess, and the requests per session the sandbox logged.
# Loopback only.
#   scripts/bench_list_check.sh [N...]        e.g. scripts/bench_list_check.sh 200 2000
# Sessions are made once per N (N logins on distinct phones 99966 2 YYYY, four at a time,
# without latency) and kept in ${BENCH_CACHE:-/tmp/tgsess-bench}/N for later runs; the sandbox
# then restarts with --latency (sign-ins survive a restart on the same directory).
set -euo pipefail
LAT=${LAT:-100}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(200 2000)
. "$(dirname "$0")/sandbox_env.sh"
[ "$(ulimit -Hn)" -ge 4200 ] || echo "note: hard open-file limit $(ulimit -Hn) binds at ~$(( $(ulimit -Hn) - 64 )) sessions"
login_one() {  # T CONFIG DIR I
  printf '22222\n' | "$1" --config "$2" --session-dir "$3" --username "bot$4" \
    --phone "$(printf '999662%04d' "$4")" login --code-stdin --fresh > /dev/null 2>&1
}
export -f login_one
CACHE=${BENCH_CACHE:-/tmp/tgsess-bench}
for n in "${SIZES[@]}"; do
  SBDIR=$CACHE/$n/sb
  sessions=$CACHE/$n/sessions
  if [ "$(ls "$sessions" 2>/dev/null | wc -l)" -ne "$n" ]; then
    rm -rf "${CACHE:?}/$n" && mkdir -p "$sessions"
    start_sandbox
    seq "$n" | xargs -P 4 -I{} bash -c 'login_one "$0" "$1" "$2" "$3"' "$T" "$SBDIR/tgsess.toml" "$sessions" {}
    stop_sandbox
  fi
  start_sandbox --latency "$LAT"
  cfg=(--config "$SBDIR/tgsess.toml" --session-dir "$sessions")
  for run in 1 2 3; do
    before=$(wc -l < "$SBDIR/requests.jsonl")
    /usr/bin/time -f "%e %M" -o "$W/time" "$T" "${cfg[@]}" list --check --timeout 60 > "$W/out" || true
    after=$(wc -l < "$SBDIR/requests.jsonl")
    read -r secs kib < "$W/time"
    echo "$n sessions, --latency $LAT, run $run: $(tail -1 "$W/out" | sed 's/.*: //') wall ${secs} s, peak RSS $((kib / 1024)) MiB, $((after - before)) requests"
  done
  stop_sandbox
done
