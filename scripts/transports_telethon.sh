#!/usr/bin/env bash
# A real Telethon 1.45 client calls get_me on the sandbox over Full, Abridged,
# Intermediate and obfuscated TCP; the sandbox log shows each transport and layer.
#   scripts/transports_telethon.sh
# Needs python3 with venv and PyPI access; venvs go under ${VENVS:-/tmp/tgsess-venvs}.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${VENVS:-/tmp/tgsess-venvs}
TL="$V/telethon145/bin/python"
[ -x "$TL" ] || { python3 -m venv "$V/telethon145" && "$V/telethon145/bin/pip" install -q telethon==1.45.0; }
cargo build --quiet
T=$PWD/target/debug/tgsess
W=$(mktemp -d)
trap 'kill $SB 2>/dev/null; rm -rf "$W"' EXIT
export HOME=$W/home TGSESS_STATE_DIR=$W/state
mkdir -p "$HOME"
"$T" sandbox --dir "$W/sb" > "$W/sb.out" &
SB=$!
for _ in $(seq 50); do grep -q listening "$W/sb.out" 2>/dev/null && break; sleep 0.1; done
echo 22222 | "$T" --config "$W/sb/tgsess.toml" --session "$W/bot.session" \
  --session-format telethon login --code-stdin > /dev/null
"$TL" scripts/transports_telethon.py "$W/bot.session"
echo "users.getUsers lines in the sandbox log, by transport and layer:"
grep '"users.getUsers"' "$W/sb/requests.jsonl" | python3 -c '
import collections, json, sys
seen = collections.Counter((j["transport"], j["layer"], j["result"]) for j in map(json.loads, sys.stdin))
for (t, l, r), n in sorted(seen.items(), key=str):
    print(f"  {t}: layer {l}, {r} x{n}")'
