#!/bin/sh
# The configuration table of benchmarks/CHARLM.md: each candidate trained on
# the default text (Newton's Opticks) with -val holding out ~25.6k tokens of
# training windows (seed 1); the choice is made on the val_ columns. Every run
# takes the shared machine's benchmark lock (at most one at a time).
# Usage: benchmarks/charlm/configs.sh [gradlab binary] [output directory]
set -e
bin=${1:-gradlab}
out=${2:-runs/charlm-configs}
mkdir -p "$out"
run() {
	name=$1
	shift
	flock /tmp/gradlab-bench.lock "$bin" train -model charlm -out "$out/$name" "$@" >"$out/$name.log" 2>&1
	echo "$name $*"
	tail -n 3 "$out/$name.log" | head -n 1
}
# about 2.5 minutes each on the 2-core machine; a short warm-up (50 steps) for
# these short runs.
c="-warmup 50 -batch 32"
run lstm-1x256-c128 -arch lstm -width 256 -depth 1 -context 128 -val 200 -epochs 4 $c
run lstm-1x256-c128-lr4e-3 -arch lstm -width 256 -depth 1 -context 128 -val 200 -epochs 4 -lr 0.004 $c
run gru-1x256-c128 -arch gru -width 256 -depth 1 -context 128 -val 200 -epochs 4 $c
run lstm-2x256-c128 -arch lstm -width 256 -depth 2 -context 128 -val 200 -epochs 2 $c
run lstm-1x512-c128 -arch lstm -width 512 -depth 1 -context 128 -val 200 -epochs 2 $c
run transformer-2x128-c64 -arch transformer -width 128 -depth 2 -heads 4 -context 64 -val 400 -epochs 1 $c
