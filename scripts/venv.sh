# Sourced by the scripts that install Python packages: virtualenvs live under
# ${VENVS:-/tmp/tgsess-venvs}, one per name, made once.
#   venv NAME PACKAGES...   makes $VENVS/NAME with PACKAGES if it is missing; prints its python
V=${VENVS:-/tmp/tgsess-venvs}
venv() {
  local d="$V/$1"; shift
  [ -x "$d/bin/python" ] || { python3 -m venv "$d" && "$d/bin/pip" install -q "$@"; }
  echo "$d/bin/python"
}
