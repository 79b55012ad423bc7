#!/usr/bin/env bash
# The exec guard against real libraries: Telethon 1.45 and kurigram bots that open the wrong
# session, on a `tgsess sandbox` on 127.0.0.1 (nothing reaches Telegram). Each case runs
# first without tgsess, where the library must spend a code, then under `tgsess exec`, which
# must stop it before any code is requested. One line per case; exit 1 if any case fails.
#   scripts/guard.sh
# Cases, for each library:
#   another name   the bot names its session "telegram_session" (the original refactor);
#   wrong folder   the bot's name is right ("karaposu"), but it runs from another folder
#                  (Telethon: the working directory; kurigram: the script's folder).
# Installs Telethon and kurigram from PyPI into virtualenvs under ${VENVS:-/tmp/tgsess-venvs}.
set -uo pipefail
. "$(dirname "$0")/sandbox_env.sh"
declare -A PY=([telethon]="telethon145 telethon==1.45.0" [kurigram]="kurigram kurigram==2.2.26")
BOT=$W/bot ELSEWHERE=$W/elsewhere
mkdir -p "$BOT" "$ELSEWHERE"
cp scripts/guard_bot.py scripts/peers.py "$BOT/"
cp scripts/guard_bot.py scripts/peers.py "$ELSEWHERE/"
start_sandbox
signed_in_bot "$BOT"
codes() { grep -c '"method":"auth.sendCode"' "$W/sb/requests.jsonl"; }
failed=0
# case LIBRARY LABEL CWD SCRIPT_DIR NAME CREATED
run_case() {
  local lib=$1 label=$2 cwd=$3 dir=$4 name=$5 created=$6 py before rc1 rc2 free guarded
  py=$(venv ${PY[$lib]}) || { echo "$lib: cannot install"; failed=$((failed + 1)); return; }
  before=$(codes)
  (cd "$cwd" && timeout 60 "$py" "$dir/guard_bot.py" "$lib" "$W/sb" "$name" > "$W/out" 2>&1)
  rc1=$?
  [ -z "${GUARD_DEBUG:-}" ] || cat "$W/out"
  free=$(($(codes) - before))
  rm -f "$created" "$created-journal"
  before=$(codes)
  (cd "$cwd" && timeout 60 "$T" --config "$BOT/tgsess.toml" exec -- \
    "$py" "$dir/guard_bot.py" "$lib" "$W/sb" "$name" > "$W/out" 2> "$W/err")
  rc2=$?
  guarded=$(($(codes) - before))
  local version
  version=$("$py" -c "from importlib.metadata import version; print(version('$lib'))")
  local verdict=OK
  [ "$free" -eq 1 ] && [ "$guarded" -eq 0 ] && [ "$rc2" -eq 6 ] && [ -e "$created" ] || verdict=FAILED
  rm -f "$created" "$created-journal"
  [ $verdict = OK ] || failed=$((failed + 1))
  echo "$lib $version, $label: without tgsess $free code(s) (exit $rc1); under tgsess exec" \
    "$guarded code(s) (exit $rc2): $(grep -m1 "error:" "$W/err" | sed 's/^tgsess: error: //' | cut -c1-160): $verdict"
}
run_case telethon "another name" "$BOT" "$BOT" telegram_session "$BOT/telegram_session.session"
run_case telethon "wrong folder" "$ELSEWHERE" "$BOT" karaposu "$ELSEWHERE/karaposu.session"
run_case kurigram "another name" "$BOT" "$BOT" telegram_session "$BOT/telegram_session.session"
run_case kurigram "wrong folder" "$ELSEWHERE" "$ELSEWHERE" karaposu "$ELSEWHERE/karaposu.session"
stop_sandbox
echo "guard: $((4 - failed)) of 4 cases OK"
[ "$failed" -eq 0 ]
