#!/usr/bin/env bash
# Creates a sample app's git repository from its sources (base tree + one
# overlay per tag, see history.tsv). Author, committer and dates are fixed,
# so the commit SHAs are the same on every machine. Rebuilt only when its
# sources change. Prints the repository path.
#
#   make-sample-repo.sh                  lab/sample-app    -> .lab/sample-app    (golive-app)
#   make-sample-repo.sh sample-django    lab/sample-django -> .lab/sample-django (golive-shop)
#
# The argument names a directory under lab/ (or SAMPLE_SRC does); the
# repository is $LAB_STATE/<that name> unless SAMPLE_REPO names another path,
# and tags are annotated "<app> <tag>", the app being SAMPLE_APP_NAME or the
# one the source directory belongs to.
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/lib.sh"

name=${1:-${SAMPLE_SRC:-sample-app}}
case $name in
  */* | .* | '') die "make-sample-repo.sh: give the name of a directory under lab/, not '$name'" ;;
esac
src=$LAB_DIR/$name
[ -f "$src/history.tsv" ] || die "$src/history.tsv does not exist: $name is not a sample app's sources"
case $name in
  sample-app) app_default=golive-app ;;
  sample-django) app_default=golive-shop ;;
  *) app_default=$name ;;
esac
app=${SAMPLE_APP_NAME:-$app_default}
repo=${SAMPLE_REPO:-$LAB_STATE/$name}
# Only what goes into the repository (not caches, docs or deploy templates
# next to it), and the app name in the tags.
want=$(
  recipe_hash "lab/$name/base" "lab/$name/overlays" "lab/$name/history.tsv" lab/scripts/make-sample-repo.sh \
    | { cat; printf '%s\n' "$app"; } | sha256sum | cut -c1-12
)
stamp=$repo/.git/golive-lab-recipe
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  printf '%s\n' "$repo"
  exit 0
fi

command -v git >/dev/null 2>&1 || die "git is missing; install it with: apt-get install -y git"
command -v rsync >/dev/null 2>&1 || die "rsync is missing; install it with: apt-get install -y rsync"
log "creating the $app repository in $repo"
# Built next to the old one and swapped in at the end: a reader of the old
# repository (a go-live archiving a tag) never finds it half made.
build=$repo.new.$$
trap 'rm -rf "$build"' EXIT
rm -rf "$build"
mkdir -p "$build"
export GIT_AUTHOR_NAME="Golive Lab" GIT_AUTHOR_EMAIL="lab@golive.invalid"
export GIT_COMMITTER_NAME="Golive Lab" GIT_COMMITTER_EMAIL="lab@golive.invalid"
export GIT_CONFIG_NOSYSTEM=1 HOME=$LAB_STATE
g() { git -C "$build" -c core.autocrlf=false -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
g init -q -b main
# Overlays are copied, never their metadata or caches; --checksum because
# rsync would skip a changed file of the same size and mtime.
copy=(rsync -a --checksum --exclude=__pycache__ --exclude='*.pyc' --exclude='.golive-*')
"${copy[@]}" "$src/base/" "$build/"

first=1
while IFS=$'\t' read -r branch tag date subject; do
  case $branch in '#'* | '') continue ;; esac
  if [ "$branch" != main ] && [ "$(g symbolic-ref --short HEAD)" != "$branch" ]; then
    g checkout -q -b "$branch"
  fi
  if [ $first -eq 0 ]; then
    overlay=$src/overlays/$tag
    [ -d "$overlay" ] || die "history.tsv names $tag but $overlay does not exist"
    "${copy[@]}" "$overlay/" "$build/"
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
  g tag -a -m "$app $tag" "$tag"
done < "$src/history.tsv"
g checkout -q main
printf '%s\n' "$want" > "$build/.git/golive-lab-recipe"
if [ -e "$repo" ]; then
  rm -rf "$repo.old.$$"
  mv "$repo" "$repo.old.$$"
  mv "$build" "$repo"
  rm -rf "$repo.old.$$"
else
  mv "$build" "$repo"
fi
printf '%s\n' "$repo"
