#!/usr/bin/env bash
# Runs every "Your own bot against the sandbox" snippet of the README, exactly as it stands
# there, against its own fresh `tgsess sandbox` on 127.0.0.1, each held to loopback (the
# Python ones through peers.py's loopback_only, the Node ones through loopback.cjs). One line
# per snippet; exit 1 if any fails. Installs the libraries the snippets name (virtualenvs and
# node_modules under ${VENVS:-/tmp/tgsess-venvs}), so it is not part of `cargo test`.
set -uo pipefail
# npm builds better-sqlite3 (mtcute's storage) with node-gyp, whose headers live in the real
# home's cache; the sandbox's scratch HOME would start without them.
NPM_HOME=$HOME
. "$(dirname "$0")/sandbox_env.sh"
failed=0 count=0
# Each snippet: the line `<!-- bot: NAME PACKAGE -->`, then a fenced code block.
while read -r name package lang start end; do
  count=$((count + 1))
  SBDIR=$W/sb-$name
  run=$W/run-$name
  mkdir -p "$run"
  if [ "$lang" = python ]; then
    file=$run/bot.py
    sed -n "${start},${end}p" README.md > "$file"
    py=$(venv "bot-$name" "$package") || { echo "$name: cannot install $package"; failed=$((failed + 1)); continue; }
    cmd=("$py" -c "import sys, runpy; sys.path.insert(0, '$PWD/scripts'); import peers; peers.loopback_only(); runpy.run_path(sys.argv[1], run_name='__main__')" "$file")
  else
    file=$run/bot.cjs
    sed -n "${start},${end}p" README.md > "$file"
    mods=$V/npm-bots
    [ -d "$mods/node_modules/${package%@*}" ] || { mkdir -p "$mods" && (cd "$mods" && npm init -y > /dev/null && HOME=$NPM_HOME npm install --silent "$package" > /dev/null); } \
      || { echo "$name: cannot install $package"; failed=$((failed + 1)); continue; }
    export NODE_PATH=$mods/node_modules
    cmd=(node -r "$PWD/scripts/loopback.cjs" "$file")
  fi
  start_sandbox
  out=$(cd "$run" && SANDBOX_DIR=$SBDIR timeout 90 "${cmd[@]}" 2>"$run/err")
  rc=$?
  stop_sandbox
  said=$(grep -o 'signed in as .*' <<< "$out" | tail -1)
  sent=$(grep -c '"auth.sendCode"' "$SBDIR/requests.jsonl" 2>/dev/null)
  if [ $rc -eq 0 ] && [ "$said" = "signed in as sandbox_21234" ] && [ "$sent" = 1 ]; then
    echo "$name ($package): $said, one auth.sendCode in the sandbox's log: OK"
  else
    echo "$name ($package): FAILED (exit $rc, said '${said:-nothing}', auth.sendCode $sent): $(tail -2 "$run/err" | tr '\n' ' ')"
    failed=$((failed + 1))
  fi
done < <(python3 - <<'PY'
import re
lines = open("README.md").read().split("\n")
for i, l in enumerate(lines):
    m = re.match(r"<!-- bot: (\S+) (\S+) -->", l)
    if not m:
        continue
    fence = lines[i + 1]
    lang = "python" if fence == "```python" else "js"
    end = next(j for j in range(i + 2, len(lines)) if lines[j] == "```")
    print(m.group(1), m.group(2), lang, i + 3, end)
PY
)
echo "$count snippets, $failed failed"
[ "$count" -eq 4 ] && [ $failed -eq 0 ]
