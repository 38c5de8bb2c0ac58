# Sourced by scripts/serve and scripts/test: make .venv with the project installed.
# Quick on a second run: pip runs again only when pyproject.toml or the extras change.
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"
        break
      fi
    done
  fi
  if [ -z "$python" ]; then
    echo "evalsvc needs Python 3.11 or newer; none was found on PATH (set PYTHON=...)." >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $python" >&2
    "$python" -m venv .venv
  fi
  # One stamp per extras set; the test install also serves `scripts/serve`.
  local want
  want="$(.venv/bin/python -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest())')"
  local stamp=".venv/.evalsvc-installed-${extras:-base}"
  if [ -z "$extras" ] && [ "$(cat .venv/.evalsvc-installed-test 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing evalsvc${extras:+[$extras]} into .venv" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}" >&2
    echo "$want" > "$stamp"
  fi
}
