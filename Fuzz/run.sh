#!/usr/bin/env bash
# Fuzz/run.sh TARGET SECONDS — builds the engine with libFuzzer instrumentation (swiftc -sanitize=fuzzer)
# and runs one target for SECONDS (default 600). TARGET: csv | ndjson | config.
# A crash, a failed property (precondition) or an input slower than 10 s stops the run and leaves the
# input in Fuzz/findings/TARGET/. The corpus grows in .build-fuzz/corpus/TARGET (seeded from Fuzz/corpus).
set -euo pipefail
target=${1:?usage: Fuzz/run.sh csv|ndjson|config SECONDS}
seconds=${2:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
case $target in
  csv) harness=Fuzz/FuzzCSV.swift ;;
  ndjson) harness=Fuzz/FuzzNDJSON.swift ;;
  config) harness=Fuzz/FuzzConfig.swift ;;
  *) echo "unknown target '$target' (csv, ndjson or config)" >&2; exit 2 ;;
esac
build=.build-fuzz
mkdir -p "$build"
# Only the engine library and what it depends on: the executables have their own main, libFuzzer brings one.
# (Retried: in a shared working tree a file edited mid-build fails it.)
for attempt in 1 2 3; do
  if swift build --build-path "$build" --sanitize fuzzer --target StewardPipeline > "$build.log" 2>&1; then break; fi
  grep -E "error" "$build.log" | head -3 >&2
  [ "$attempt" = 3 ] && exit 1
  sleep 20
done
debug="$build/debug"
objects=$(find "$debug"/ -name '*.o' | grep -v -E '/(steward|steward-bench|StewardTests|StewardConsole)\.build/' | sort)
# The clang modules the engine's Swift modules import must be visible to the harness too.
modulemaps=$(find "$build/checkouts" "$debug" Sources -name module.modulemap 2>/dev/null | sed 's/^/-Xcc -fmodule-map-file=/')
includes=$(find "$build/checkouts" -type d -name include -path '*/Sources/*' | sed 's/^/-Xcc -I/')
binary="$build/fuzz-$target"
# shellcheck disable=SC2086
swiftc -sanitize=fuzzer -parse-as-library -g -swift-version 6 -I "$debug/Modules" $modulemaps $includes \
  "$harness" Fuzz/FuzzFile.swift $objects -lsqlite3 -lstdc++ -o "$binary"
corpus="$build/corpus/$target"
findings="Fuzz/findings/$target"
mkdir -p "$corpus" "$findings"
cp -n Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
"$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$findings/" -print_final_stats=1
