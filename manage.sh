#!/usr/bin/env bash
# One entry point for a newcomer and for CI.
#   ./manage.sh run    install everything, migrate, seed the demo event, serve on http://127.0.0.1:5000
#   ./manage.sh test   install everything (with test tools), run the whole test suite
# Set TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test to run every test on PostgreSQL too.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=${PYTHON:-python3}
RUNTIME_DEBS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
TEST_DEBS="chromium zbar-tools poppler-utils"

install_debs() {
  local missing=()
  for pkg in "$@"; do
    # Installed, not merely known: a removed package keeps its configuration and dpkg -s still finds it.
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

install_python() {
  local requirements=$1
  if [ ! -x "$VENV/bin/python" ]; then
    # Debian's own python3 needs python3-venv for this; pyenv and python.org builds have it.
    "$PY" -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; install_debs python3-venv; "$PY" -m venv "$VENV"; }
  fi
  # Reinstall only when the requirements changed since the last install.
  local stamp="$VENV/.installed-$(basename "$requirements")"
  if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt -newer "$stamp")" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    touch "$stamp"
  fi
  "$VENV/bin/pybabel" compile --statistics -d eventreg/translations
}

case "${1:-}" in
  run)
    install_debs $RUNTIME_DEBS
    install_python requirements.txt
    export FLASK_APP=wsgi
    "$VENV/bin/flask" db upgrade
    "$VENV/bin/flask" seed-demo
    echo "Sign-up page: http://127.0.0.1:${PORT:-5000}/events/asyl-jurek-2021/register"
    exec "$VENV/bin/flask" run --host 127.0.0.1 --port "${PORT:-5000}"
    ;;
  test)
    install_debs $RUNTIME_DEBS $TEST_DEBS
    install_python requirements-dev.txt
    shift
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: $0 run | test [pytest arguments]" >&2
    exit 2
    ;;
esac
