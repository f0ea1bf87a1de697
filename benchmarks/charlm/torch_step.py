#!/usr/bin/python3
"""The training step of BenchmarkCharlmTrainStep (benchmarks/charlm_test.go)
in PyTorch, on the same networks (torch_charlm.build: the twin's model, here
with PyTorch's initialization), the same batch of random token ids and
random targets (vocabulary 93), the same loss (mean cross-entropy over every
position), global-norm clipping at 1 and AdamW (lr 2e-3, decay 0.05).
Reports tokens/s (batch × context per step, median step time).

Each PyTorch measurement runs in a fresh interpreter with torch_env's
settings (OPENBLAS_CORETYPE=SkylakeX, ATEN_CPU_CAPABILITY=avx512,
OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = t before torch is imported, and
torch.set_num_threads(t)) for t = 1 and 2. With --vs-go the Go benchmark
runs too (-test.cpu 1,2), alternating round by round with PyTorch so both
see the same load, and the table gives gradlab ÷ PyTorch's best (the faster
of its 1- and 2-thread medians). From the repository root, under the lock:

    flock /tmp/gradlab-bench.lock /usr/bin/python3 benchmarks/charlm/torch_step.py --vs-go --rounds 3

Needs PyTorch (Debian's python3-torch 1.13); use /usr/bin/python3.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
import torch_env  # noqa: E402

VOCAB = 93
# The configurations of charlmBench (benchmarks/charlm_test.go).
CONFIGS = {
    "gru-1x256-c128": dict(arch="gru", context=128, width=256, depth=1, heads=4, batch=32),
    "lstm-1x256-c128": dict(arch="lstm", context=128, width=256, depth=1, heads=4, batch=32),
    "gru-1x512-c128": dict(arch="gru", context=128, width=512, depth=1, heads=4, batch=32),
    "transformer-4x128-h4-c64": dict(arch="transformer", context=64, width=128, depth=4, heads=4, batch=32),
}


def child(threads, seconds, names):
    import torch
    import torch.nn.functional as F
    from torch_charlm import build

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "configs": {}}
    for name in names:
        c = CONFIGS[name]
        mc = dict(c, vocab=VOCAB, dropout=0)
        net = build({"model": {"config": mc}}, None).train()
        opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=0.05)
        B, T = c["batch"], c["context"]
        x = torch.randint(VOCAB, (B, T))
        y = torch.randint(VOCAB, (B, T))

        def step():
            opt.zero_grad(set_to_none=True)
            logits = net(x)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()

        for _ in range(3):
            step()
        times, t_end = [], time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(times) < 5:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        out["configs"][name] = B * T / statistics.median(times)
    print(json.dumps(out))


def run_torch(threads, seconds, names):
    env = torch_env.child_env(threads)
    res = subprocess.run([sys.executable, __file__, "--child", str(threads), "--seconds", str(seconds),
                          "--configs", ",".join(names)], env=env, check=True, capture_output=True, text=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["env"] = torch_env.describe(env)
    return out


BENCH = re.compile(r"^BenchmarkCharlmTrainStep/(\S+?)/gradlab(?:-(\d+))?\s.*?(\d+(?:\.\d+)?) tokens/s")


def run_go(binary, benchtime, cpus, names):
    pattern = "CharlmTrainStep/(" + "|".join(re.escape(n) for n in names) + ")/"
    res = subprocess.run([binary, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime,
                          "-test.cpu", cpus], check=True, capture_output=True, text=True)
    got = {}
    for line in res.stdout.splitlines():
        m = BENCH.match(line)
        if m:
            got[(m.group(1), f"gradlab-{m.group(2) or 1}t")] = float(m.group(3))
        if line.startswith("Benchmark"):
            print("   ", line, flush=True)
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names of CONFIGS")
    ap.add_argument("--vs-go", action="store_true", help="alternate with the Go benchmark")
    ap.add_argument("--benchtime", default="3s", help="Go -test.benchtime per round")
    ap.add_argument("--go-cpu", default="1,2", help="Go -test.cpu (GOMAXPROCS values) per round")
    args = ap.parse_args()
    names = args.configs.split(",")
    if args.child is not None:
        child(args.child, args.seconds, names)
        return
    binary = None
    if args.vs_go:
        binary = "/tmp/gradlab-charlm-bench.test"
        subprocess.run(["go", "test", "-c", "-o", binary, "./benchmarks"], check=True)
    samples, meta = {}, {}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        if binary:
            for key, v in run_go(binary, args.benchtime, args.go_cpu, names).items():
                samples.setdefault(key, []).append(v)
        for t in (1, 2):
            res = run_torch(t, args.seconds, names)
            meta[t] = {k: res[k] for k in ("threads", "torch", "env")}
            for name, v in res["configs"].items():
                samples.setdefault((name, f"pytorch-{t}t"), []).append(v)
                print(f"    pytorch threads={t} {name}: {v:.0f} tokens/s", flush=True)
    print()
    for t, m in sorted(meta.items()):
        print(f"PyTorch {m['torch']}, torch.get_num_threads()={m['threads']}; env {m['env']}")
    print()
    print("| model | impl | median tokens/s | this ÷ PyTorch's best |")
    print("|---|---|---:|---:|")
    for name in names:
        best = max((statistics.median(samples[(name, i)]) for i in ("pytorch-1t", "pytorch-2t") if (name, i) in samples),
                   default=None)
        for impl in ("gradlab-1t", "gradlab-2t", "pytorch-1t", "pytorch-2t"):
            s = samples.get((name, impl))
            if s:
                v = statistics.median(s)
                ratio = f"{v / best:.2f}×" if impl.startswith("gradlab") and best else ""
                print(f"| {name} | {impl} | {v:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
