#!/usr/bin/env bash
# Regenerates tests/fixtures with the real libraries from PyPI and npm and checks every round trip.
#   scripts/fixtures.sh [make|check]   (default: both)
# Needs python3 with venv and PyPI access; writes venvs under ${VENVS:-/tmp/tgsess-venvs}.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
OUT=tests/fixtures
NEW=$(venv new telethon==1.45.0 pyrogram==2.0.106)
if [ "${1:-all}" != check ]; then
  OLD=$(venv old telethon==1.36.0 pyrogram==1.4.16)
  rm -f "$OUT"/*.session "$OUT"/*.string "$OUT"/manifest.json
  "$NEW" scripts/fixtures.py make --lib telethon-v8 --out "$OUT"
  "$OLD" scripts/fixtures.py make --lib telethon-v7 --out "$OUT"
  "$NEW" scripts/fixtures.py make --lib pyrogram-v3 --out "$OUT"
  "$OLD" scripts/fixtures.py make --lib pyrogram-v2 --out "$OUT"
  # GramJS and mtcute strings, made by the npm packages themselves.
  NPMDIR="$V/npm"
  [ -d "$NPMDIR/node_modules/telegram" ] || { mkdir -p "$NPMDIR" && (cd "$NPMDIR" && npm init -y >/dev/null && npm install --silent telegram @mtcute/node); }
  NODE_PATH="$NPMDIR/node_modules" node scripts/fixtures_js.mjs "$OUT"
  # Telegram Desktop tdata, written by @mtcute/convert (its own install: its peer versions).
  CONVDIR="$V/npm-convert"
  [ -d "$CONVDIR/node_modules/@mtcute/convert" ] || { mkdir -p "$CONVDIR" && (cd "$CONVDIR" && npm init -y >/dev/null && npm install --silent @mtcute/convert @mtcute/node); }
  rm -rf "$OUT"/tdata-* "$OUT"/tdata-manifest.json
  NODE_PATH="$CONVDIR/node_modules" node scripts/fixtures_tdata.mjs "$OUT"
  if KURI=$(venv kurigram kurigram 2>/dev/null); then
    "$KURI" scripts/fixtures.py make --lib kurigram --out "$OUT"
  else
    echo "kurigram did not install; skipping its fixture"
  fi
fi
if [ "${1:-all}" != make ]; then
  cargo build --release --quiet
  "$NEW" scripts/fixtures.py check --tgsess "target/$(rustc -vV | sed -n 's/^host: //p')/release/tgsess" \
    --out "$OUT"
fi
