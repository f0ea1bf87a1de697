#!/usr/bin/python3
"""The training step of BenchmarkTrainStep (trainstep_test.go) in PyTorch.

Same networks, same batch (128, float32, random pixels in [0, 1) and random
labels), same loss (mean softmax cross-entropy) and Adam (lr 1e-3, betas
0.9/0.999, eps 1e-8 outside the square root). Prints samples/s for each
thread count.

With --vs-go the script also runs the Go benchmark itself, alternating with
the PyTorch measurements round by round so that both see the same machine
load, and prints the ratio gradlab / PyTorch from medians:

    /usr/bin/python3 benchmarks/torch_trainstep.py --vs-go              # pure Go
    /usr/bin/python3 benchmarks/torch_trainstep.py --vs-go --tags openblas

Each PyTorch measurement runs in a fresh interpreter whose environment gives
PyTorch its best (torch_env.py): OPENBLAS_CORETYPE chosen from the CPU's flags
(SkylakeX on this AVX-512 Xeon, whose model OpenBLAS 0.3.21 does not know, so
that without it PyTorch's products run on generic SSE3 kernels), and
OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to its thread count, so that
"1 thread" means one thread in the BLAS too. Variables already set are kept.
The caller's environment is not changed; with --tags openblas the Go
benchmark gets the same OPENBLAS_CORETYPE (both on the same kernels), the
pure-Go build runs in the environment as given. The settings are printed. Run from the repository root. Needs PyTorch (Debian's python3-torch 1.13);
use /usr/bin/python3, not another interpreter without torch.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import torch_env

BATCH = 128


def build(model):
    from torch import nn
    if model == "mlp-784-256-10":
        net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    elif model == "default":
        # gradlab's default (mlp.Default): 784-512-256-10, linear (no bias)
        # -> batch norm -> ReLU -> dropout 0.3 per hidden layer, then linear
        # with bias.
        layers, fan_in = [], 784
        for units in (512, 256):
            layers += [nn.Linear(fan_in, units, bias=False), nn.BatchNorm1d(units, eps=1e-5, momentum=0.1),
                       nn.ReLU(), nn.Dropout(0.3)]
            fan_in = units
        net = nn.Sequential(*layers, nn.Linear(fan_in, 10))
    elif model == "cnn-16-32-128":
        # gradlab's cnnStep: conv 5x5 16 (padding 2) -> ReLU -> max-pool 2 ->
        # conv 5x5 32 (padding 2) -> ReLU -> max-pool 2 -> flatten -> dense
        # 128 -> ReLU -> dense 10 (no batch norm, no dropout).
        net = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        raise SystemExit(f"unknown model {model!r}")
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):  # He normal, zero bias, as gradlab's "he"
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net.train()


def samples_per_s(model, threads, seconds):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = build(model)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(BATCH, 1, 28, 28) if model.startswith("cnn") else torch.rand(BATCH, 784)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(5):  # warm up
        step()
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return BATCH * n / elapsed


def measure(model, threads, seconds):
    """samples_per_s in a fresh interpreter whose BLAS and OpenMP pools have
    `threads` threads: torch.set_num_threads does not reach the OpenBLAS that
    Debian's torch calls through the generic BLAS interface, whose thread
    count is fixed when the library loads (OPENBLAS_NUM_THREADS)."""
    env = torch_env.child_env(threads)
    out = subprocess.run([sys.executable, __file__, "--child", model, str(threads), str(seconds)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def go_samples_per_s(model, tags, benchtime):
    pattern = f"TrainStep/{model}/"
    cmd = ["go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1"]
    if tags:
        cmd += ["-tags", tags]
    cmd.append("./benchmarks")
    out = subprocess.run(cmd, env=go_env(tags), check=True, capture_output=True, text=True).stdout
    rates = {}
    for line in out.splitlines():
        m = re.match(r"BenchmarkTrainStep/[^/]+/(\w+)-\d+\s.*?\s([\d.]+) samples/s", line)
        if m:
            rates[m.group(1)] = float(m.group(2))
    if "gradlab" not in rates:
        raise SystemExit("no gradlab result in:\n" + out)
    return rates


def go_env(tags):
    """The Go benchmark's environment: as given, plus PyTorch's
    OPENBLAS_CORETYPE when it links OpenBLAS (-tags openblas)."""
    env = dict(os.environ)
    core = torch_env.best_coretype()
    if "openblas" in tags and core:
        env.setdefault("OPENBLAS_CORETYPE", core)
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mlp-784-256-10", choices=["mlp-784-256-10", "default", "cnn-16-32-128"])
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts (default 1,2)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time per PyTorch measurement")
    ap.add_argument("--rounds", type=int, default=3, help="measurements per implementation; medians are reported")
    ap.add_argument("--vs-go", action="store_true", help="also run the Go benchmark (interleaved) and print ratios")
    ap.add_argument("--tags", default="", help="Go build tags for --vs-go, e.g. openblas")
    ap.add_argument("--benchtime", default="2s", help="go test -benchtime for --vs-go")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]

    info = subprocess.run([sys.executable, "-c", "import torch, re; m = re.search(r'BLAS_INFO=(\\w+)', "
                           "torch.__config__.show()); print(torch.__version__, m.group(1) if m else 'unknown')"],
                          check=True, capture_output=True, text=True).stdout.split()
    print(f"torch {info[0]}, model {args.model}, batch {BATCH}, float32, Adam; torch BLAS: {info[1]}")
    for t in threads:
        print(f"torch {t} thread(s) runs with {torch_env.describe(torch_env.child_env(t))}")
    if args.vs_go:
        e = go_env(args.tags)
        print(f"go ({args.tags or 'pure Go'}) runs with OPENBLAS_CORETYPE={e.get('OPENBLAS_CORETYPE', '(unset)')} "
              f"OPENBLAS_NUM_THREADS={e.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    res = {f"torch/{t}t": [] for t in threads}
    for r in range(args.rounds):
        for t in threads:
            v = measure(args.model, t, args.seconds)
            res[f"torch/{t}t"].append(v)
            print(f"round {r + 1}: torch {t} thread(s): {v:9.0f} samples/s", flush=True)
        if args.vs_go:
            for impl, v in go_samples_per_s(args.model, args.tags, args.benchtime).items():
                res.setdefault(f"go/{impl}", []).append(v)
                print(f"round {r + 1}: go {impl} ({args.tags or 'pure Go'}): {v:9.0f} samples/s", flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    print("\nmedians (samples/s):")
    for k, v in med.items():
        print(f"  {k:16s} {v:9.0f}")
    if args.vs_go:
        for t in threads:
            print(f"gradlab / torch {t} thread(s): {med['go/gradlab'] / med[f'torch/{t}t']:.2f}")
        if "go/gorgonia" in med:
            print(f"gradlab / gorgonia: {med['go/gradlab'] / med['go/gorgonia']:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(samples_per_s(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        sys.exit(0)
    sys.exit(main())
