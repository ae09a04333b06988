#!/usr/bin/env bash
# ansible-test sanity, offline. ansible-test needs the collection under
# ansible_collections/<ns>/<name>/, so the tracked files are copied there.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
# Outside the checkout: inside it, ansible-test would ask git and find the
# copy ignored.
work=${GOLIVE_SANITY_DIR:-/tmp/runbook-golive-sanity}
dest=$work/ansible_collections/runbook/golive
rm -rf "$work"
mkdir -p "$dest"
# Tracked and new (not ignored) files; the lab's sample application is not
# part of the collection (galaxy.yml build_ignore) and is linted by ruff.
git ls-files -z --cached --others --exclude-standard \
  | grep -zv '^lab/' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | rsync -a --from0 --files-from=- ./ "$dest/"

# ansible-test fetches a pip bootstrap script from a host this machine cannot
# reach; seed its cache with a stand-in that uses the interpreter's ensurepip.
cache=~/.ansible/test/cache
mkdir -p "$cache"
for v in 24_2 25_0 25_1 25_2 25_3; do
  [ -f "$cache/get_pip_$v.py" ] && continue
  cat > "$cache/get_pip_$v.py" <<PY
import subprocess, sys
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "pip==${v/_/.}"])
PY
done

# ansible-test installs its own pinned linters: keep them out of .venv.
svenv=${GOLIVE_SANITY_VENV:-$PWD/.build/sanity-venv}
if [ ! -x "$svenv/bin/ansible-test" ]; then
  python3 -m venv "$svenv"
  "$svenv/bin/pip" install -q --disable-pip-version-check -r requirements/controller.txt
fi
export PATH="$svenv/bin:$PATH"

cd "$dest"
ansible-test sanity --local --python 3.11 --requirements "$@" || {
  rc=$?
  echo "sanity: failed; the report is in $dest/tests/output/" >&2
  exit $rc
}
