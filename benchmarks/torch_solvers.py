#!/usr/bin/python3
"""Time PyTorch's optimizers on the sizes and dtypes of BenchmarkSolvers.

Run with Debian's python3-torch (1.13):

    /usr/bin/python3 benchmarks/torch_solvers.py [--quick]

For each optimizer, dtype, size and thread count (torch.set_num_threads(1) and
2) it fills .grad once, then times opt.step() (PyTorch does not zero the
gradient in step, so it keeps the same gradient) and prints the median ns per
step and ns per element, in a layout close to `go test -bench`. Hyperparameters
are PyTorch's defaults (SGD: lr=0.01; momentum 0.9 for momentum/nesterov).
The defaults of torch 1.13 are used, i.e. foreach=None, which is the
single-tensor implementation on CPU for one parameter.
"""
import statistics
import sys
import time

import torch

SIZES = [10000, 1048576, 16777216]
DTYPES = [torch.float32, torch.float64]
O = torch.optim
OPTIMIZERS = [
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


def main():
    quick = "--quick" in sys.argv
    min_time = 0.2 if quick else 1.0
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads available")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, make in OPTIMIZERS:
            for dtype in DTYPES:
                for n in SIZES:
                    ns = bench(make, n, dtype, min_time)
                    dt = str(dtype).replace("torch.", "")
                    print(f"TorchSolvers/{name}/torch-threads={threads}/{dt}/n={n}\t"
                          f"{ns:14.0f} ns/op\t{ns / n:8.3f} ns/elem", flush=True)


if __name__ == "__main__":
    main()
