#!/usr/bin/env bash
# The real libraries load what tgsess writes in their formats (see scripts/in_place.py).
#   scripts/in_place.sh
# Needs python3 with venv and PyPI access; venvs go under ${VENVS:-/tmp/tgsess-venvs}.
# Everything talks to a `tgsess sandbox` on 127.0.0.1; nothing reaches Telegram.
set -euo pipefail
. "$(dirname "$0")/sandbox_env.sh"
mkdir -p "$W/out"
start_sandbox

# The seed's bot, once per format: username = "'karaposu'", the format declared, one code.
for fmt in telethon pyrogram; do
  bot=$W/bot-$fmt
  mkdir -p "$bot"
  cat > "$bot/tgsess.toml" <<EOF
api_id = 1
api_hash = "sandbox"
phone = "9996621234"
username = "'karaposu'"
session_format = "$fmt"
sandbox_dir = "$W/sb"
EOF
  echo 22222 | "$T" --config "$bot/tgsess.toml" login --code-stdin > "$W/login-$fmt.out"
  cp "$bot/'karaposu'.session" "$W/out/login.$fmt.session"
  # The same session exported as the other library's file and string.
  "$T" --config "$bot/tgsess.toml" export --format "$fmt" --output "$W/out/export-from-$fmt.$fmt.session" > /dev/null
  for to in telethon pyrogram; do
    "$T" --config "$bot/tgsess.toml" export --format "$to-string" --output "$W/out/from-$fmt.$to.string" > /dev/null
  done
done
# A Telethon key exported to Pyrogram: the user id comes from Telegram (users.getUsers).
"$T" --config "$W/bot-telethon/tgsess.toml" export --format pyrogram \
  --output "$W/out/telethon-to.pyrogram.session" > /dev/null

echo "files: $(cd "$W/out" && ls | tr '\n' ' ')"
TL=$(venv telethon145 telethon==1.45.0)
"$TL" scripts/in_place.py telethon "$W/out"
status=0
for fork in kurigram pyrofork hydrogram; do
  module=pyrogram; [ $fork = hydrogram ] && module=hydrogram
  if PY=$(venv "$fork" "$fork" 2>/dev/null); then
    "$PY" scripts/in_place.py pyrogram "$W/out" "$module" "$fork" || status=1
  else
    echo "$fork did not install"; status=1
  fi
done
exit $status
