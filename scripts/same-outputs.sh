#!/usr/bin/env bash
# Checks that two convstats binaries write byte-identical outputs: the
# shipped examples (with their config), Intercom's fixtures, and N `gen`
# conversations with and without an office-hours config. Used to show that
# a refactoring changed no output.
#
#   scripts/same-outputs.sh OLD_BINARY NEW_BINARY [N]   (N defaults to 200000)
#
# Builds nothing: build each binary first (e.g. a `git worktree` of the old
# commit with `cargo build --release`). Exits 1 on the first difference.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1
new=$2
n=${3:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$new" gen --conversations "$n" --seed 7 > "$work/gen.ndjson"
"$new" gen --print-config > "$work/gen.toml"
cmp <("$old" gen --conversations "$n" --seed 7) "$work/gen.ndjson" \
  || { echo "DIFFERENT: gen output" >&2; exit 1; }
echo "same: gen ($n conversations)"
empty="$work/empty.toml"
: > "$empty"
cases=(
  "examples examples/conversations.ndjson examples/convstats.toml"
  "fixtures tests/fixtures/intercom-openapi-conversations.ndjson $empty"
  "gen-24x7 $work/gen.ndjson $empty"
  "gen-office-hours $work/gen.ndjson $work/gen.toml"
)
for c in "${cases[@]}"; do
  read -r name input config <<<"$c"
  for side in old new; do
    bin=${!side}
    "$bin" -q --config "$config" compute "$input" --out "$work/$name-$side"
  done
  for f in conversations-new.ndjson conversations-legacy.ndjson conversations.csv rejected.ndjson report.html; do
    if ! cmp -s "$work/$name-old/$f" "$work/$name-new/$f"; then
      echo "DIFFERENT: $name/$f" >&2
      exit 1
    fi
  done
  echo "same: $name ($(wc -l < "$work/$name-new/conversations-new.ndjson") documents per family, 5 files)"
done
