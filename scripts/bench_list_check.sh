#!/usr/bin/env bash
# list --check against 200 signed-in sandbox sessions behind --latency 100, compared with
# 200 sequential `tgsess check` runs. Loopback only.
#   scripts/bench_list_check.sh [N] [LATENCY_MS]
set -euo pipefail
N=${1:-200}
LAT=${2:-100}
. "$(dirname "$0")/sandbox_env.sh"
start_sandbox
mkdir -p "$W/sessions"
for i in $(seq "$N"); do
  echo 22222 | "$T" --config "$W/sb/tgsess.toml" --session-dir "$W/sessions" --username "bot$i" \
    login --code-stdin --fresh > /dev/null
done
kill $SB; wait $SB 2>/dev/null || true
start_sandbox --latency "$LAT"     # accounts and sign-ins survive a restart on the same directory
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
