#!/bin/bash
# End to end: the default `gradlab train` (10 epochs) against PyTorch running
# the identical configuration, initial weights and data order, one run after
# the other (TRAINING.md, "End to end: gradlab train vs PyTorch (issue 14
# part 5)"). Run from anywhere:
#
#   benchmarks/e2e.sh [OUT]          # OUT defaults to runs/e2e
#
# 1. builds gradlab once per BLAS (go build -o: pure Go, and -tags openblas)
#    and the twin writer;
# 2. runs gradlab train (pure Go), then gradlab train -tags openblas with
#    OPENBLAS_CORETYPE chosen as for PyTorch (torch_env.py);
# 3. writes the twin file from the pure-Go run's config.json (the openblas
#    run's must be identical) and runs benchmarks/torch_train.py on 1 and 2
#    threads;
# 4. prints the table rows (torch_train.py --table).
#
# Every timed run holds /tmp/gradlab-bench.lock (flock), so it never overlaps
# another benchmark that takes the lock; the time spent waiting for the lock
# is not timed. GRADLAB_ARGS adds flags to both gradlab train runs (e.g.
# GRADLAB_ARGS="-epochs 1 -train-limit 6400" for a smoke test of this script;
# the twin follows the run's config.json; GRADLAB_ARGS="-model cnn" is the
# CNN's end-to-end run, CNN.md). E2E_OPENBLAS=0 skips the -tags openblas run
# (the twin is then written from the pure-Go run alone). Needs Go,
# libopenblas-dev and /usr/bin/python3 with torch.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/e2e}
LOCK=/tmp/gradlab-bench.lock
PY=/usr/bin/python3
read -r -a EXTRA <<< "${GRADLAB_ARGS:-}"
mkdir -p "$OUT"

go build -o "$OUT/gradlab" ./cmd/gradlab
go build -tags openblas -o "$OUT/gradlab-openblas" ./cmd/gradlab
go build -o "$OUT/twin" ./benchmarks/cmd/twin
CORE=$(cd benchmarks && $PY -c 'import torch_env; print(torch_env.best_coretype() or "")')

# timed DIR CMD...: runs CMD under the lock, its output to DIR/log.txt and the
# terminal, the wall-clock start and end (seconds) to DIR/start and DIR/end.
timed() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	flock "$LOCK" bash -c 'set -o pipefail; d=$1; shift; date +%s.%N > "$d/start"; "$@" | tee "$d/log.txt"; date +%s.%N > "$d/end"' _ "$dir" "$@"
}

echo "== gradlab train, pure Go ($(go version | cut -d' ' -f3), GOMAXPROCS=${GOMAXPROCS:-$(nproc)})"
timed "$OUT/purego" "$OUT/gradlab" train -out "$OUT/purego" "${EXTRA[@]}"

if [ "${E2E_OPENBLAS:-1}" != 0 ]; then
	echo "== gradlab train -tags openblas (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$CORE}, OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-(unset)})"
	timed "$OUT/openblas" env OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-$CORE}" "$OUT/gradlab-openblas" train -out "$OUT/openblas" "${EXTRA[@]}"
	cmp "$OUT/purego/config.json" "$OUT/openblas/config.json"
fi

"$OUT/twin" -config "$OUT/purego/config.json" -o "$OUT/twin.safetensors"
for t in 1 2; do
	echo "== PyTorch, $t thread(s)"
	timed "$OUT/torch-${t}t" $PY benchmarks/torch_train.py --twin "$OUT/twin.safetensors" --threads "$t" --json "$OUT/torch-${t}t.json"
done

echo
$PY benchmarks/torch_train.py --table "$OUT"
