#!/usr/bin/env bash
# Rebuilds the sandbox's per-layer definitions and their byte fixtures from the client
# libraries themselves:
#   crates/sandbox/src/layers/lLAYER.tl   the constructors the sandbox sends, from each library's
#                                  shipped schema (scripts/layers.py)
#   crates/sandbox/tests/fixtures/layers/LIB.json the same answers written by each library's serialiser
#                                  (scripts/layer_fixtures.py, scripts/layer_fixtures.cjs)
#   scripts/layers.sh
# Downloads sdists from PyPI and packages from npm into a scratch directory, and installs the
# Python libraries into virtualenvs under ${VENVS:-/tmp/tgsess-venvs}. Contacts no Telegram
# server. Not part of `cargo test`; `cargo test` checks the committed results.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT
# The .tl files ship in the Pyrogram forks' sdists (compiler/api/source/main_api.tl).
TOOLS=$(venv sdist-tools hatchling setuptools wheel)
for p in hydrogram==0.2.0 pyrofork==2.3.69 kurigram==2.2.26; do
  "${TOOLS%/python}/pip" download -q --no-deps --no-binary :all: --no-build-isolation "$p" -d "$S"
done
for f in "$S"/*.tar.gz; do tar xzf "$f" -C "$S"; done
(cd "$S" && npm init -y > /dev/null && npm install --silent telegram@2.26.22 @mtcute/core@0.29.7 > /dev/null)
N=$S/node_modules
GRAMMERS=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/grammers-tl-types-0.11.0 | head -1)
python3 scripts/layers.py crates/sandbox/src/layers \
  "hydrogram 0.2.0 (PyPI sdist: compiler/api/source/main_api.tl)=$S/hydrogram-0.2.0/compiler/api/source/main_api.tl" \
  "telegram 2.26.22 (GramJS, npm: tl/apiTl.js)=$N/telegram/tl/apiTl.js" \
  "pyrofork 2.3.69 (PyPI sdist: compiler/api/source/main_api.tl)=$S/pyrofork-2.3.69/compiler/api/source/main_api.tl" \
  "@mtcute/core 0.29.7 (npm: tl/api-schema.json)=$N/@mtcute/core/tl/api-schema.json" \
  "kurigram 2.2.26 (PyPI sdist: compiler/api/source/main_api.tl)=$S/kurigram-2.2.26/compiler/api/source/main_api.tl" \
  "grammers-tl-types 0.11.0 (crates.io: tl/api.tl)=$GRAMMERS/tl/api.tl"
F=crates/sandbox/tests/fixtures/layers
mkdir -p "$F"
"$(venv telethon145 telethon==1.45.0)" scripts/layer_fixtures.py telethon > "$F/telethon.json"
"$(venv kurigram kurigram==2.2.26)" scripts/layer_fixtures.py kurigram > "$F/kurigram.json"
"$(venv pyrofork pyrofork==2.3.69)" scripts/layer_fixtures.py pyrofork > "$F/pyrofork.json"
"$(venv hydrogram hydrogram==0.2.0)" scripts/layer_fixtures.py hydrogram > "$F/hydrogram.json"
NODE_PATH=$N node scripts/layer_fixtures.cjs gramjs > "$F/gramjs.json"
NODE_PATH=$N node scripts/layer_fixtures.cjs mtcute > "$F/mtcute.json"
echo "wrote crates/sandbox/src/layers/*.tl and $F/*.json; check them with: cargo test -p tgsess-sandbox layers"
