#!/usr/bin/env bash
# Checks the systemd units of deploy/ with `systemd-analyze verify`, as CI does (.ci/run) and
# tests/operations/test_deploy_units.py.
#
# The units name the installed paths (/opt/imserver, /etc/imserver/imserver.env), which do not
# exist on a developer's machine or in CI, and `verify` refuses an ExecStart whose program is
# missing. So the units are copied to a temporary folder with those paths pointed at this
# checkout, its Python (IMSERVER_PYTHON, default .venv/bin/python) and an empty environment
# file, then verified there. Any line `verify` prints (an unknown or misspelt setting is only a
# warning to it) fails the check, and so does a timer without its service.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${IMSERVER_PYTHON:-$root/.venv/bin/python}"
analyze="${SYSTEMD_ANALYZE:-$(command -v systemd-analyze || echo /usr/bin/systemd-analyze)}"
[ -x "$analyze" ] || { echo "verify.sh: systemd-analyze not found (Debian: apt-get install systemd)" >&2; exit 2; }
[ -x "$python" ] || { echo "verify.sh: no Python at $python (make the venv, or set IMSERVER_PYTHON)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: > "$work/imserver.env"
units=()
for unit in "$here"/*.service "$here"/*.target "$here"/*.timer; do
  name="$(basename "$unit")"
  sed -e "s#/opt/imserver/.venv/bin/python#$python#g" \
      -e "s#/etc/imserver/imserver.env#$work/imserver.env#g" \
      -e "s#/opt/imserver#$root#g" "$unit" > "$work/$name"
  case "$name" in
    *@.service) units+=("${name%@.service}@8081.service") ;;  # a template: verify an instance
    *) units+=("$name") ;;
  esac
  if [[ "$name" == *.timer && ! -f "$here/${name%.timer}.service" ]]; then
    echo "verify.sh: $name has no ${name%.timer}.service" >&2
    exit 1
  fi
done

cd "$work"
if ! output="$("$analyze" verify --man=no "${units[@]}" 2>&1)"; then
  printf '%s\n' "$output" >&2
  echo "verify.sh: systemd-analyze verify failed" >&2
  exit 1
fi
if [ -n "$output" ]; then
  printf '%s\n' "$output" >&2
  echo "verify.sh: systemd-analyze verify printed warnings" >&2
  exit 1
fi
echo "verify.sh: ${#units[@]} units verified: ${units[*]}"
