#!/usr/bin/env bash
# A real Telethon 1.45 client, signed in on the sandbox, accepts the token that
# `tgsess login --qr` prints (AcceptLoginTokenRequest); tgsess then signs in with no code.
#   scripts/qr_telethon.sh
# Needs python3 with venv and PyPI access; venvs go under ${VENVS:-/tmp/tgsess-venvs}.
set -euo pipefail
. "$(dirname "$0")/sandbox_env.sh"
TL=$(venv telethon145 telethon==1.45.0)
start_sandbox
# The Telethon side: a session signed in with one code, in Telethon's own format.
echo 22222 | "$T" --config "$W/sb/tgsess.toml" --session "$W/phone.session" \
  --session-format telethon login --code-stdin > /dev/null
# The new session: tgsess login --qr, its tokens as JSON lines.
"$T" --config "$W/sb/tgsess.toml" --session "$W/desktop.session" login --qr --json \
  --timeout 60 > "$W/qr.jsonl" 2> "$W/qr.err" &
QR=$!
for _ in $(seq 100); do [ -s "$W/qr.jsonl" ] && break; sleep 0.1; done
URL=$(head -1 "$W/qr.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
echo "tgsess login --qr printed: ${URL:0:40}..."
"$TL" scripts/qr_telethon.py "$W/phone.session" "$URL"
wait $QR
echo "tgsess: $(tail -1 "$W/qr.jsonl")"
"$T" --config "$W/sb/tgsess.toml" --session "$W/desktop.session" check
echo "auth.sendCode requests in the sandbox log: $(grep -c '"auth.sendCode"' "$W/sb/requests.jsonl")" \
  "(the Telethon side's own login)"
