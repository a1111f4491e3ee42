#!/usr/bin/env bash
# Mutation testing of the sans-IO layers with cargo-mutants (issue 15).
#
# Usage:
#   scripts/mutants.sh --all                 every module below (hours on 2 cores)
#   scripts/mutants.sh --changed [BASE]      only code changed since BASE (the CI step)
#   scripts/mutants.sh FILE...               only these modules, e.g. src/terminal/frame.rs
#   scripts/mutants.sh --list                modules and their mutant counts; builds nothing
#                                            (with --changed: what CI would test)
#
# Options (before the mode or files):
#   --jobs N      parallel cargo-mutants jobs (default 1; each needs its own build)
#   --budget N    test at most N mutants; above that, one rotating shard (default:
#                 unlimited, 100 with --changed)
#   --no-doc      skip the second pass that runs the doc tests against survivors
#   --out DIR     where mutants.out goes (default target/mutants)
#
# How it works. The modules are the sans-IO files listed in MODULES. Pass 1 runs
# every mutant against the fast test targets in TEST_TARGETS (the library's unit
# tests and the integration tests that need no client or simulator), built with
# `--no-default-features --features codec`. Pass 2 re-runs only the survivors
# against the doc tests (which cargo cannot build in the same command). The
# score of a module is (caught + timeout) / (caught + timeout + missed); unviable
# mutants (that do not compile) are not counted. Equivalent mutants are excluded,
# one by one with a reason, in .cargo/mutants.toml.
#
# Exit status: 0 when no mutant was missed; 1 when one was (a test is missing, or
# an equivalent mutant needs a documented exclusion) or a module scores under
# MIN_SCORE; 2 on a usage or tool error.
#
# --changed (CI): BASE defaults to $MUTANTS_BASE, else the newest tag, else the
# commit in .cargo/mutants-base (from which CI counts changes). Only
# mutants on lines of the listed modules changed since BASE are tested
# (cargo-mutants --in-diff), so a clone where no module changed finishes in
# seconds without building anything. When more than --budget mutants changed,
# the shard "day number mod shards" is tested, so every shard comes round within
# a few days and each CI run stays within its time budget.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_MUTANTS_VERSION=25.3.1
MIN_SCORE=95

# The sans-IO modules (globs; a glob matching nothing is skipped, e.g. the push
# core before it exists).
MODULES=(
  src/terminal/checksum.rs
  src/terminal/frame.rs
  src/terminal/packet.rs
  src/terminal/commkey.rs
  src/terminal/sequence.rs
  src/terminal/record/user.rs
  src/terminal/record/attendance.rs
  src/terminal/record/bulk.rs
  src/terminal/record/door.rs
  src/terminal/record/event.rs
  src/terminal/record/oplog.rs
  src/terminal/record/options.rs
  src/terminal/record/sizes.rs
  src/terminal/record/template.rs
  src/terminal/record/text.rs
  src/terminal/record/time.rs
  src/terminal/session.rs
  src/terminal/session/*.rs
  src/terminal/sync.rs
  src/terminal/trace.rs
  src/terminal/restore.rs
  src/text.rs
  src/panel/crc.rs
  src/panel/frame.rs
  src/panel/session.rs
  src/panel/session/*.rs
  src/panel/table.rs
  src/panel/table/*.rs
  src/panel/rtlog.rs
  src/push/*.rs
  src/push/**/*.rs
)

# Fast test targets: no client, no simulator, no sockets.
TEST_TARGETS=(
  --lib
  --test=golden_wire --test=malformed_wire --test=proptest_wire --test=wire_boundaries
  --test=records_users_attendance --test=records_misc --test=record_boundaries
  --test=panel_golden --test=panel_malformed --test=fuzz_regressions
  --test=push_golden --test=push_malformed --test=push_proptest
)
FEATURES=(--no-default-features --features codec)
# Doc tests of the crate root use the client and simulator, which this build leaves out.
DOC_SKIP=(--skip src/lib.rs)

jobs=1 budget= doc=1 out=target/mutants mode= base= list=0
files=()
die() { echo "mutants.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --jobs) jobs=${2:?}; shift 2 ;;
    --budget) budget=${2:?}; shift 2 ;;
    --no-doc) doc=0; shift ;;
    --out) out=${2:?}; shift 2 ;;
    --list) list=1; mode=${mode:-all}; shift ;;
    --all) mode=all; shift ;;
    --changed)
      mode=changed; shift
      if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then base=$1; shift; fi ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) files+=("$1"); mode=files; shift ;;
  esac
done
[ -n "$mode" ] || die "say --all, --changed [BASE], --list or name module files (see --help)"

# ---- which files
all_files=()
for g in "${MODULES[@]}"; do
  for f in $g; do [ -f "$f" ] && all_files+=("$f"); done
done
if [ "$mode" = files ]; then
  for f in "${files[@]}"; do
    printf '%s\n' "${all_files[@]}" | grep -qxF "$f" || die "$f is not a listed sans-IO module"
  done
else
  files=("${all_files[@]}")
fi

mkdir -p "$out"
in_diff=()
if [ "$mode" = changed ]; then
  budget=${budget:-100}
  if [ -z "$base" ]; then
    base=${MUTANTS_BASE:-$(git describe --tags --abbrev=0 2>/dev/null || true)}
    [ -n "$base" ] || base=$(sed -n 's/^\([0-9a-f]\{40\}\).*/\1/p' .cargo/mutants-base 2>/dev/null | head -n 1)
  fi
  if [ -z "$base" ] || ! git cat-file -e "$base^{commit}" 2>/dev/null; then
    echo "base ${base:-<none>} is not in this clone; comparing with the previous commit"
    base=$(git rev-parse -q --verify HEAD~1 || true)
    [ -n "$base" ] || { echo "no previous commit: nothing to compare"; exit 0; }
  fi
  git diff --no-ext-diff --unified=0 "$base" -- "${files[@]}" >"$out/changes.diff"
  changed=$(git diff --name-only "$base" -- "${files[@]}")
  if [ -z "$changed" ]; then
    echo "no sans-IO module changed since $(git rev-parse --short "$base"): nothing to mutate"
    exit 0
  fi
  echo "modules changed since $(git rev-parse --short "$base"):"; printf '  %s\n' $changed
  files=($changed)
  in_diff=(--in-diff "$out/changes.diff")
fi

# ---- the pinned tool (only now: a CI run with nothing to mutate installs nothing)
if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $CARGO_MUTANTS_VERSION" ]; then
  echo "installing cargo-mutants $CARGO_MUTANTS_VERSION"
  cargo install --locked cargo-mutants --version "$CARGO_MUTANTS_VERSION" || die "cannot install cargo-mutants"
fi

file_args=()
for f in "${files[@]}"; do file_args+=(-f "$f"); done

# ---- how many mutants; shard when over budget
count=$(cargo mutants --list "${file_args[@]}" "${in_diff[@]}" 2>/dev/null | grep -c . || true)
if [ "$list" = 1 ]; then
  cargo mutants --list "${file_args[@]}" "${in_diff[@]}" | cut -d: -f1 | sort | uniq -c
  echo "total: $count mutants (equivalent ones excluded in .cargo/mutants.toml)"
  [ -z "$budget" ] || [ "$count" -le "$budget" ] || echo "over the budget of $budget: a shard would be tested"
  exit 0
fi
[ "$count" -gt 0 ] || { echo "no mutants in the changed lines"; exit 0; }
shard=()
if [ -n "$budget" ] && [ "$count" -gt "$budget" ]; then
  n=$(( (count + budget - 1) / budget ))
  k=$(( $(date +%s) / 86400 % n ))
  echo "$count mutants exceed the budget of $budget: testing shard $k of $n (rotates daily)"
  shard=(--shard "$k/$n")
else
  echo "$count mutants to test"
fi

export PROPTEST_CASES=${PROPTEST_CASES:-32}
common=(--gitignore true -j "$jobs" "${FEATURES[@]}" "${file_args[@]}" "${in_diff[@]}" "${shard[@]}")

# ---- pass 1: fast targets
rm -rf "$out/mutants.out" "$out/doc"
args=()
for t in "${TEST_TARGETS[@]}"; do args+=(-C "$t"); done
set +e
cargo mutants "${common[@]}" -o "$out" "${args[@]}"
rc=$?
set -e
# 0 all caught, 2 some missed, 3 some timed out; anything else is a failure of the run.
case $rc in 0|2|3) ;; *) die "cargo-mutants failed (exit $rc); see $out/mutants.out/log" ;; esac
res=$out/mutants.out
missed_file=$res/missed.txt
doc_caught=/dev/null doc_timeout=/dev/null

# ---- pass 2: survivors against the doc tests
if [ "$doc" = 1 ] && [ -s "$missed_file" ]; then
  echo "pass 2: $(wc -l <"$missed_file") survivors against the doc tests"
  re=()
  while IFS= read -r name; do
    re+=(-F "^$(printf '%s' "$name" | sed 's/[][\\.^$*+?(){}|]/\\&/g')\$")
  done <"$missed_file"
  mkdir -p "$out/doc"
  # The survivors are named by file:line:column; if the sources changed since
  # pass 1 the names no longer match, and an empty pass 2 would look like
  # every survivor was caught. Refuse that.
  found=$(cargo mutants --list "${file_args[@]}" "${re[@]}" 2>/dev/null | grep -c . || true)
  [ "$found" -eq "$(wc -l <"$missed_file")" ] ||
    die "pass 2 finds $found of the $(wc -l <"$missed_file") survivors: the sources changed during the run; run again on an unchanged tree"
  set +e
  cargo mutants --gitignore true -j "$jobs" "${FEATURES[@]}" "${file_args[@]}" "${re[@]}" -o "$out/doc" \
    -- --doc -- "${DOC_SKIP[@]}"
  rc=$?
  set -e
  case $rc in 0|2|3) ;; *) die "cargo-mutants (doc tests) failed (exit $rc); see $out/doc/mutants.out/log" ;; esac
  missed_file=$out/doc/mutants.out/missed.txt
  doc_caught=$out/doc/mutants.out/caught.txt
  doc_timeout=$out/doc/mutants.out/timeout.txt
fi

# ---- per-module table
echo
printf '%-36s %7s %7s %7s %7s %7s %7s\n' module mutants caught timeout missed unviabl score
fail=0
count_in() { # count_in FILE LIST...: lines of the lists naming mutants of FILE
  local f=$1; shift
  cat "$@" 2>/dev/null | grep -c "^${f//./\\.}:" || true
}
for f in "${files[@]}"; do
  c=$(( $(count_in "$f" "$res/caught.txt") + $(count_in "$f" "$doc_caught") ))
  t=$(( $(count_in "$f" "$res/timeout.txt") + $(count_in "$f" "$doc_timeout") ))
  m=$(count_in "$f" "$missed_file")
  u=$(count_in "$f" "$res/unviable.txt")
  viable=$((c + t + m))
  if [ "$viable" -eq 0 ]; then score=-; else score=$(( 1000 * (c + t) / viable )); fi
  [ "$score" = - ] || { [ "$score" -lt $((MIN_SCORE * 10)) ] && fail=1; score="$((score / 10)).$((score % 10))%"; }
  printf '%-36s %7s %7s %7s %7s %7s %7s\n' "$f" $((viable + u)) "$c" "$t" "$m" "$u" "$score"
done
if [ -s "$missed_file" ]; then
  echo
  echo "missed mutants (add a test that asserts the behaviour, or document an equivalent"
  echo "mutant in .cargo/mutants.toml):"
  sed 's/^/  /' "$missed_file"
  fail=1
fi
[ "$fail" = 0 ] && echo "mutation check passed (threshold ${MIN_SCORE}%, no missed mutant)"
exit "$fail"
