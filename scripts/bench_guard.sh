#!/usr/bin/env bash
# The guard's margin (a benchmark, not a test), on a `tgsess sandbox` on 127.0.0.1:
#  1. how long a program runs after it creates a foreign session file before `tgsess exec`
#     freezes it (SIGSTOP): margin_bot.py records the clock just before it creates the file,
#     then keeps recording it until it is frozen;
#  2. how long real Telethon 1.45 takes from creating its file to sending auth.sendCode
#     (the sandbox's request log), without tgsess: the time the guard has.
#   scripts/bench_guard.sh [RUNS]      (default 10 and 3)
set -uo pipefail
(cd "$(dirname "$0")/.." && cargo build --quiet --release) || exit 1
. "$(dirname "$0")/sandbox_env.sh"
RUNS=${1:-10}
R=$OUTDIR/release/tgsess
BOT=$W/bot
mkdir -p "$BOT"
cp scripts/guard_bot.py scripts/peers.py scripts/margin_bot.py "$BOT/"
start_sandbox
signed_in_bot "$BOT" "$R"
clock=$W/clock
margins=()
for i in $(seq "$RUNS"); do
  head -c 16 /dev/zero > "$clock"
  (cd "$BOT" && "$R" --config "$BOT/tgsess.toml" exec --no-preflight -- \
    python3 "$BOT/margin_bot.py" "$clock" "other$i" 2> /dev/null)
  rc=$?
  us=$(python3 -c "import struct,sys; a,b=struct.unpack('<qq',open(sys.argv[1],'rb').read(16)); print((b-a)//1000)" "$clock")
  [ "$rc" -eq 6 ] || echo "run $i: exit $rc, not 6"
  margins+=("$us")
done
echo "file created -> program frozen (tgsess exec, release build, $RUNS runs): ${margins[*]} µs"
py=$(venv telethon145 telethon==1.45.0) || { echo "cannot install Telethon"; exit 1; }
spans=()
for i in 1 2 3; do
  t0=$(cd "$BOT" && "$py" "$BOT/guard_bot.py" telethon "$W/sb" "free$i" 2> /dev/null |
    sed -n 's/^file at //p')
  sent=$(grep '"method":"auth.sendCode"' "$W/sb/requests.jsonl" | tail -1 |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["time"])')
  spans+=("$((sent - t0))")
done
echo "Telethon 1.45 file created -> auth.sendCode at the sandbox (loopback, no tgsess): ${spans[*]} ms"
stop_sandbox
