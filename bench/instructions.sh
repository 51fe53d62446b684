#!/usr/bin/env bash
# Instructions per call (valgrind cachegrind's I refs) of one openai-calls.ts variant: a count
# that does not move with the machine's load, for comparing changes to the hot path.
#   bench/instructions.sh VARIANT [v6|v7] [memory|stream]
# Runs the variant twice, with N1 and N2 timed calls after the same warm-up, and prints
# (I(N2) - I(N1)) / (N2 - N1). `--single-threaded --predictable-gc-schedule` make V8's
# compilation and GC deterministic, so two runs agree within ~0.5%. Needs valgrind; about two
# minutes per variant (four for streams). Counts are not times: JIT tiering under valgrind
# differs, and a cache miss costs more than an add. Use them to find where the work is, and
# `pnpm bench` to say what it costs.
set -euo pipefail
cd "$(dirname "$0")/.."
variant=$1 sdk=${2:-v7} mode=${3:-memory}
if [ "$mode" = stream ]; then N1=${N1:-100} N2=${N2:-300} W=${W:-200}; else N1=${N1:-1000} N2=${N2:-3000} W=${W:-1500}; fi
PATH="$PWD/.tools/bin:$PATH"
refs() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    node --single-threaded --predictable-gc-schedule bench/openai-calls.ts --direct \
    --variant="$variant" --sdk="$sdk" --mode="$mode" --blocks=1 --calls="$1" --warm="$W" 2>&1 |
    awk '/I *refs/ { gsub(",", "", $4); print $4 }'
}
a=$(refs "$N1")
b=$(refs "$N2")
echo "$variant ($sdk, $mode): $(( (b - a) / (N2 - N1) )) instructions per call"
