#!/bin/sh
# The configuration table of benchmarks/CHARLM.md: each candidate trains on
# the default text (Newton's Opticks) with -val 200 holding out 200 training
# windows (25.6 k tokens at context 128, 12.8 k at 64); the choice is made on
# the val_ columns. Rounds 1 and 2 give every candidate a fixed budget of 5
# epochs (about 2.4 M tokens; the cosine schedule spans those epochs); round 3
# compares dropout at the full run's budget of 12 epochs. Two runs at a time,
# without the benchmark lock: their times are not measurements (tokens/s come
# from the step benchmark and the timed full run).
# Usage: benchmarks/charlm/configs.sh [gradlab binary] [output directory] [round]
set -e
bin=${1:-gradlab}
out=${2:-runs/charlm-configs}
mkdir -p "$out"
run() {
	name=$1
	shift
	"$bin" train -model charlm -out "$out/$name" -val 200 -warmup 100 -batch 32 "$@" >"$out/$name.log" 2>&1
	echo "$name $* | $(grep '^final' "$out/$name.log" | cut -d';' -f1) | $(grep '^epoch' "$out/$name.log" | tail -n 1 | sed 's/.*val loss/val loss/')"
}
round1() {
	run gru-1x256-c128 -arch gru -width 256 -context 128 -lr 0.004 -epochs 5 &
	run gru-1x512-c128 -arch gru -width 512 -context 128 -lr 0.003 -epochs 5 &
	wait
}
round2() {
	run lstm-1x512-c128 -arch lstm -width 512 -context 128 -lr 0.003 -epochs 5 &
	run transformer-4x128-c64 -arch transformer -width 128 -depth 4 -heads 4 -context 64 -lr 0.002 -epochs 5 &
	wait
}
round3() {
	run gru-1x512-c128-e12 -arch gru -width 512 -context 128 -lr 0.003 -epochs 12 &
	run gru-1x512-c128-d0.2-e12 -arch gru -width 512 -context 128 -lr 0.003 -epochs 12 -dropout 0.2 &
	wait
}
case ${3:-all} in
all) round1; round2; round3 ;;
*) "round$3" ;;
esac
