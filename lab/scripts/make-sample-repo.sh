#!/usr/bin/env bash
# Creates the sample app's git repository in .lab/sample-app from
# lab/sample-app/ (base tree + one overlay per tag, see history.tsv). Author,
# committer and dates are fixed, so the commit SHAs are the same on every
# machine. Rebuilt only when its sources change. Prints the repository path.
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/lib.sh"

src=$LAB_DIR/sample-app
repo=$LAB_STATE/sample-app
want=$(recipe_hash lab/sample-app lab/scripts/make-sample-repo.sh)
stamp=$repo/.git/golive-lab-recipe
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  printf '%s\n' "$repo"
  exit 0
fi

command -v git >/dev/null 2>&1 || die "git is missing; install it with: apt-get install -y git"
command -v rsync >/dev/null 2>&1 || die "rsync is missing; install it with: apt-get install -y rsync"
log "creating the sample app repository in $repo"
rm -rf "$repo"
mkdir -p "$repo"
export GIT_AUTHOR_NAME="Golive Lab" GIT_AUTHOR_EMAIL="lab@golive.invalid"
export GIT_COMMITTER_NAME="Golive Lab" GIT_COMMITTER_EMAIL="lab@golive.invalid"
export GIT_CONFIG_NOSYSTEM=1 HOME=$LAB_STATE
g() { git -C "$repo" -c core.autocrlf=false -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
g init -q -b main
# Overlays are copied, never their metadata or caches; --checksum because
# rsync would skip a changed file of the same size and mtime.
copy=(rsync -a --checksum --exclude=__pycache__ --exclude='*.pyc' --exclude='.golive-*')
"${copy[@]}" "$src/base/" "$repo/"

first=1
while IFS=$'\t' read -r branch tag date subject; do
  case $branch in '#'* | '') continue ;; esac
  if [ "$branch" != main ] && [ "$(g symbolic-ref --short HEAD)" != "$branch" ]; then
    g checkout -q -b "$branch"
  fi
  if [ $first -eq 0 ]; then
    overlay=$src/overlays/$tag
    [ -d "$overlay" ] || die "history.tsv names $tag but $overlay does not exist"
    "${copy[@]}" "$overlay/" "$repo/"
    if [ -f "$overlay/.golive-delete" ]; then
      grep -v '^#' "$overlay/.golive-delete" | while read -r path; do
        [ -n "$path" ] && g rm -q -r -- "$path"
      done
    fi
  fi
  first=0
  export GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date
  g add -A
  g commit -q -m "$subject"
  g tag -a -m "golive-app $tag" "$tag"
done < "$src/history.tsv"
g checkout -q main
printf '%s\n' "$want" > "$stamp"
printf '%s\n' "$repo"
