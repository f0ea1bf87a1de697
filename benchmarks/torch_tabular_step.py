#!/usr/bin/python3
"""The training step of BenchmarkTabularTrainStep (tabular_test.go) in PyTorch.

Same network: the tabular MLP 50-[256 256] (standardize, Linear -> ReLU,
Linear -> ReLU, Linear; the regressor's one output rescaled by the target's
standard deviation and mean and flattened to one value per row, as gradlab's
"unscale" and reshape), float32, batch 256, He-normal weights and zero
biases; same loss (MSE, or mean softmax cross-entropy over 2 classes); same
optimizer (AdamW, lr 0.002, betas 0.9/0.999, eps 1e-8, weight decay 0.05).
Prints samples/s for each thread count.

With --vs-go the script also runs the Go benchmark, alternating with the
PyTorch measurements round by round so that both see the same machine load,
and prints the ratio gradlab / PyTorch from medians:

    flock /tmp/gradlab-bench.lock /usr/bin/python3 benchmarks/torch_tabular_step.py --vs-go --task regression
    flock /tmp/gradlab-bench.lock /usr/bin/python3 benchmarks/torch_tabular_step.py --vs-go --task classification

Each PyTorch measurement runs in a fresh interpreter whose environment gives
PyTorch its best (torch_env.py: OPENBLAS_CORETYPE from the CPU's flags,
ATEN_CPU_CAPABILITY, OPENBLAS_NUM_THREADS = OMP_NUM_THREADS =
torch.set_num_threads = the thread count measured). The settings are
printed. Run from the repository root with /usr/bin/python3 (Debian's
python3-torch 1.13).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import torch_env

BATCH, INPUTS, HIDDEN = 256, 50, (256, 256)


def samples_per_s(task, threads, seconds):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    reg = task == "regression"
    layers, fan_in = [], INPUTS
    for units in HIDDEN:
        layers += [nn.Linear(fan_in, units), nn.ReLU()]
        fan_in = units
    layers.append(nn.Linear(fan_in, 1 if reg else 2))
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    mean, std = torch.zeros(INPUTS), torch.ones(INPUTS)
    tm, ts = 0.0, 1.0
    opt = torch.optim.AdamW(net.parameters(), lr=0.002, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
    x = torch.randn(BATCH, INPUTS)
    w = torch.randn(INPUTS) / INPUTS ** 0.5
    v = x @ w + 0.1 * torch.randn(BATCH)
    y = v if reg else (v > 0).long()
    loss_fn = nn.MSELoss() if reg else nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        out = net((x - mean) / std)
        if reg:
            out = (out * ts + tm).reshape(-1)
        loss_fn(out, y).backward()
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


def measure(task, threads, seconds):
    """samples_per_s in a fresh interpreter with `threads` BLAS and OpenMP threads."""
    env = torch_env.child_env(threads)
    out = subprocess.run([sys.executable, __file__, "--child", task, str(threads), str(seconds)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def go_env(tags):
    env = dict(os.environ)
    core = torch_env.best_coretype()
    if "openblas" in tags and core:
        env.setdefault("OPENBLAS_CORETYPE", core)
    return env


def go_samples_per_s(task, tags, benchtime):
    cmd = ["go", "test", "-run", "^$", "-bench", f"TabularTrainStep/{task}/", "-benchtime", benchtime, "-count", "1"]
    if tags:
        cmd += ["-tags", tags]
    cmd.append("./benchmarks")
    out = subprocess.run(cmd, env=go_env(tags), check=True, capture_output=True, text=True).stdout
    m = re.search(r"BenchmarkTabularTrainStep/\w+/gradlab-\d+\s.*?\s([\d.]+) samples/s", out)
    if not m:
        raise SystemExit("no gradlab result in:\n" + out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="regression", choices=["regression", "classification"])
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
    print(f"torch {info[0]}, tabular {INPUTS}-{list(HIDDEN)} {args.task}, batch {BATCH}, float32, AdamW; "
          f"torch BLAS: {info[1]}")
    for t in threads:
        print(f"torch {t} thread(s) runs with {torch_env.describe(torch_env.child_env(t))}")
    if args.vs_go:
        e = go_env(args.tags)
        print(f"go ({args.tags or 'pure Go'}) runs with OPENBLAS_CORETYPE={e.get('OPENBLAS_CORETYPE', '(unset)')} "
              f"GOMAXPROCS={e.get('GOMAXPROCS', '(unset)')}")
    res = {f"torch/{t}t": [] for t in threads}
    if args.vs_go:
        res["go/gradlab"] = []
    for r in range(args.rounds):
        for t in threads:
            v = measure(args.task, t, args.seconds)
            res[f"torch/{t}t"].append(v)
            print(f"round {r + 1}: torch {t} thread(s): {v:9.0f} samples/s", flush=True)
        if args.vs_go:
            v = go_samples_per_s(args.task, args.tags, args.benchtime)
            res["go/gradlab"].append(v)
            print(f"round {r + 1}: go gradlab ({args.tags or 'pure Go'}): {v:9.0f} samples/s", flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    print("\nmedians (samples/s):")
    for k, v in med.items():
        print(f"  {k:16s} {v:9.0f}")
    if args.vs_go:
        for t in threads:
            print(f"gradlab / torch {t} thread(s): {med['go/gradlab'] / med[f'torch/{t}t']:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(samples_per_s(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        sys.exit(0)
    sys.exit(main())
