#!/usr/bin/python3
"""Time PyTorch's optimizers on the sizes and dtypes of BenchmarkSolvers.

Run with Debian's python3-torch (1.13):

    /usr/bin/python3 benchmarks/torch_solvers.py [--quick] [--only momentum,nesterov] [--sizes 1048576] [--threads 1,2] [--dtypes float32]

For each thread count (1 and 2) it starts a child interpreter whose
environment gives PyTorch its best (torch_env.py: OPENBLAS_CORETYPE from the
CPU's flags, SkylakeX here; OPENBLAS_NUM_THREADS and OMP_NUM_THREADS = the
thread count, set before torch is imported; torch.set_num_threads likewise).
The caller's own environment is not changed. For each optimizer, dtype and
size the child fills .grad once, then times opt.step() (PyTorch does not zero the
gradient in step, so it keeps the same gradient) and prints the median ns per
step and ns per element, in a layout close to `go test -bench`. Hyperparameters
are PyTorch's defaults (SGD: lr=0.01; momentum 0.9 for momentum/nesterov).
The defaults of torch 1.13 are used, i.e. foreach=None, which is the
single-tensor implementation on CPU for one parameter.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import torch_env

SIZES = [10000, 1048576, 16777216]
DTYPES = ["float32", "float64"]


def optimizers():
    import torch
    O = torch.optim
    return [
        ("sgd", lambda p: O.SGD(p, lr=0.01)),
        ("momentum", lambda p: O.SGD(p, lr=0.01, momentum=0.9)),
        ("nesterov", lambda p: O.SGD(p, lr=0.01, momentum=0.9, nesterov=True)),
        ("adagrad", lambda p: O.Adagrad(p)),
        ("rmsprop", lambda p: O.RMSprop(p)),
        ("adadelta", lambda p: O.Adadelta(p)),
        ("adam", lambda p: O.Adam(p)),
        ("amsgrad", lambda p: O.Adam(p, amsgrad=True)),
        ("adamw", lambda p: O.AdamW(p)),
        ("adamax", lambda p: O.Adamax(p)),
        ("nadam", lambda p: O.NAdam(p)),
    ]


def bench(make, n, dtype, min_time):
    import torch
    dtype = getattr(torch, dtype)
    p = torch.randn(n, dtype=dtype, requires_grad=True)
    p.grad = torch.randn(n, dtype=dtype)
    opt = make([p])
    opt.step()  # create state
    times = []
    total = 0.0
    while total < min_time or len(times) < 5:
        t0 = time.perf_counter_ns()
        opt.step()
        dt = time.perf_counter_ns() - t0
        times.append(dt)
        total += dt / 1e9
    return statistics.median(times)


def child(threads, min_time, only, sizes, dtypes):
    import torch
    torch.set_num_threads(threads)
    for name, make in optimizers():
        if only and name not in only:
            continue
        for dtype in dtypes:
            for n in sizes:
                ns = bench(make, n, dtype, min_time)
                print(f"TorchSolvers/{name}/torch-threads={threads}/{dtype}/n={n}\t"
                      f"{ns:14.0f} ns/op\t{ns / n:8.3f} ns/elem", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="0.2 s per measurement instead of 1 s")
    ap.add_argument("--only", default="", help="comma-separated optimizer names (default: all)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated sizes")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--dtypes", default=",".join(DTYPES), help="comma-separated dtypes")
    args = ap.parse_args()
    min_time = 0.2 if args.quick else 1.0
    for threads in [int(t) for t in args.threads.split(",")]:
        env = torch_env.child_env(threads)
        ver = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__, torch.get_num_threads())"],
                             env=env, check=True, capture_output=True, text=True).stdout.split()
        print(f"# torch {ver[0]}, threads={threads} (torch.get_num_threads() = {ver[1]}), {torch_env.describe(env)}",
              flush=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(threads), str(min_time),
                        args.only, args.sizes, args.dtypes], env=env, check=True)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        only = set(filter(None, sys.argv[4].split(",")))
        child(int(sys.argv[2]), float(sys.argv[3]), only, [int(x) for x in sys.argv[5].split(",")],
              sys.argv[6].split(","))
        sys.exit(0)
    main()
