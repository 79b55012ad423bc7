# Sourced by the scripts that drive a `tgsess sandbox` on 127.0.0.1 (nothing reaches
# Telegram): builds tgsess as $T (outputs in $OUTDIR), makes a scratch directory $W with its own HOME and state
# directory (removed on exit, with the sandbox), and defines:
#   venv NAME PACKAGES...   a virtualenv under ${VENVS:-/tmp/tgsess-venvs}; prints its python
#   start_sandbox [ARGS...] starts `tgsess sandbox --dir ${SBDIR:-$W/sb} ARGS`, pid in $SB,
#                           and waits for its announcement
#   stop_sandbox            stops it
#   signed_in_bot DIR [TGSESS]
#                           DIR/tgsess.toml for the session 'karaposu' of the running
#                           sandbox, signed in with TGSESS (default $T); exits on failure
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/venv.sh
cargo build --quiet
# .cargo/config.toml builds for the host's target tuple, so the outputs are under it.
OUTDIR=$PWD/target/$(rustc -vV | sed -n 's/^host: //p')
T=$OUTDIR/debug/tgsess
W=$(mktemp -d)
SB=
trap '[ -n "$SB" ] && kill $SB 2>/dev/null; rm -rf "$W"' EXIT
export HOME=$W/home TGSESS_STATE_DIR=$W/state
mkdir -p "$HOME"
start_sandbox() {
  local dir=${SBDIR:-$W/sb}
  mkdir -p "$dir"
  "$T" sandbox --dir "$dir" "$@" > "$dir.out" &
  SB=$!
  for _ in $(seq 200); do grep -q listening "$dir.out" 2>/dev/null && break; sleep 0.05; done
}
stop_sandbox() {
  [ -n "$SB" ] && kill "$SB" 2>/dev/null && wait "$SB" 2>/dev/null
  SB=
}
signed_in_bot() {
  local dir=$1 tgsess=${2:-$T}
  cat > "$dir/tgsess.toml" <<TOML
api_id = 1
api_hash = "sandbox"
phone = "9996621234"
session_file = "karaposu"
sandbox_dir = "$W/sb"
TOML
  echo 22222 | "$tgsess" --config "$dir/tgsess.toml" login --code-stdin > /dev/null 2>&1 ||
    { echo "cannot sign in the managed session"; exit 1; }
}
