#!/usr/bin/env bash
# Installs what the project needs on a Debian 12 machine (as root) and
# creates the virtual environment. Safe to run again: it only adds what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
VENV=${VENV:-.venv}

need_apt=()
for pkg in docker.io debootstrap rsync git curl make postgresql-client shellcheck; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${need_apt[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  echo "setup: installing python3-venv"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi

stamp="$VENV/.requirements.sha256"
want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements/dev.txt
  echo "$want" > "$stamp"
fi

# The Ansible ecosystem's linters for `make lint`, pinned: antsibull-docs in
# the virtualenv; galaxy-importer (as Galaxy runs it on an upload) in one of
# its own, since it pins its own ansible-lint, flake8 and attrs. Its
# ansible-lint sees the test requirements (tests/requirements.yml) through
# the copies the `ansible` package put in $VENV.
lint_pins="antsibull-docs==2.28.0"
importer_pins="galaxy-importer==0.4.44 ansible-lint==26.10.1"
lint_stamp="$VENV/.linters.sha256"
lint_want=$(printf '%s\n' "$lint_pins" "$importer_pins" | cat - requirements/controller.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$lint_stamp" 2>/dev/null)" != "$lint_want" ] || [ ! -x "$VENV/importer/bin/python" ]; then
  echo "setup: installing the linters (antsibull-docs, galaxy-importer)"
  # shellcheck disable=SC2086 # the pins are words
  "$VENV/bin/pip" install -q --disable-pip-version-check $lint_pins
  python3 -m venv "$VENV/importer"
  # shellcheck disable=SC2086
  "$VENV/importer/bin/pip" install -q --disable-pip-version-check -r requirements/controller.txt $importer_pins
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  importer_site=$("$VENV/importer/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  mkdir -p "$VENV/importer/collections/ansible_collections/community"
  for c in docker postgresql; do
    ln -sfn "$site/ansible_collections/community/$c" "$VENV/importer/collections/ansible_collections/community/$c"
  done
  (cd "$VENV/importer/collections" && pwd) > "$importer_site/test-collections.pth"
  echo "$lint_want" > "$lint_stamp"
fi

# The checkout is the collection; make it importable as runbook.golive.
mkdir -p .build/collections/ansible_collections/runbook
ln -sfn "$PWD" .build/collections/ansible_collections/runbook/golive
