# Sourced by bin/quickstart, bin/test and bin/lock: find or make the Python to run with.
#
# With a virtual environment active, the project is installed into it when missing. Without
# one, .venv in the checkout is created (PEP 668 systems refuse installs into the system
# Python). Either way the install takes constraints.txt as constraints, so a fresh machine
# gets the versions that were tested, and it is redone when the lock or pyproject.toml change.
# Sets QORUS_PY (the interpreter) and puts its bin/ first on PATH.

_qorus_root=$(pwd)

_qorus_stamp() {  # extra
  cat constraints.txt pyproject.toml | cksum | cut -d' ' -f1
  echo "$1"
}

ensure_venv() {  # extra: "" (runtime) or "test"
  local extra=${1:-}
  if [ -n "${VIRTUAL_ENV:-}" ]; then
    QORUS_PY="$VIRTUAL_ENV/bin/python"
  else
    if [ ! -x .venv/bin/python ]; then
      local base=${PYTHON:-python3}
      if ! "$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "qorus-py needs Python 3.11 or newer ($base is not; set PYTHON=...)" >&2
        return 1
      fi
      echo "creating .venv with $("$base" --version 2>&1) ..."
      "$base" -m venv .venv || return 1
    fi
    QORUS_PY="$_qorus_root/.venv/bin/python"
    _qorus_chose_venv=1
    export VIRTUAL_ENV="$_qorus_root/.venv"
  fi
  export PATH="$(dirname "$QORUS_PY"):$PATH"
  local stamp_file="$VIRTUAL_ENV/.qorus-installed" want have=""
  want=$(_qorus_stamp "$extra")
  [ -f "$stamp_file" ] && have=$(cat "$stamp_file")
  # a test install also serves quickstart; the reverse needs the test extra added
  if [ "$have" = "$want" ] || { [ -z "$extra" ] && [ "$have" = "$(_qorus_stamp test)" ]; }; then
    if (cd / && "$QORUS_PY" -c 'import qorus_cli, click, sqlalchemy' >/dev/null 2>&1); then
      return 0
    fi
  fi
  local target="."
  [ -n "$extra" ] && target=".[$extra]"
  echo "installing qorus-py${extra:+ with its $extra tools} from constraints.txt into $VIRTUAL_ENV ..."
  "$QORUS_PY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  "$QORUS_PY" -m pip install -q -c constraints.txt -e "$target" || return 1
  _qorus_stamp "$extra" > "$stamp_file"
}

venv_hint() {  # the one line a user needs when .venv was chosen for them
  if [ -n "${_qorus_chose_venv:-}" ]; then
    echo "to use the tools (qorus, oload, qrest, ...) in your shell: . $_qorus_root/.venv/bin/activate"
  fi
}
