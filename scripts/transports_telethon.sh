#!/usr/bin/env bash
# A real Telethon 1.45 client calls get_me on the sandbox over Full, Abridged,
# Intermediate and obfuscated TCP; the sandbox log shows each transport and layer.
#   scripts/transports_telethon.sh
# Needs python3 with venv and PyPI access; venvs go under ${VENVS:-/tmp/tgsess-venvs}.
set -euo pipefail
. "$(dirname "$0")/sandbox_env.sh"
TL=$(venv telethon145 telethon==1.45.0)
start_sandbox
echo 22222 | "$T" --config "$W/sb/tgsess.toml" --session "$W/bot.session" \
  --session-format telethon login --code-stdin > /dev/null
"$TL" scripts/transports_telethon.py "$W/bot.session"
echo "users.getUsers lines in the sandbox log, by transport and layer:"
grep '"users.getUsers"' "$W/sb/requests.jsonl" | python3 -c '
import collections, json, sys
seen = collections.Counter((j["transport"], j["layer"], j["result"]) for j in map(json.loads, sys.stdin))
for (t, l, r), n in sorted(seen.items(), key=str):
    print(f"  {t}: layer {l}, {r} x{n}")'
