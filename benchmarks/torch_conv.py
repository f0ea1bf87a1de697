#!/usr/bin/python3
"""The convolution layers of BenchmarkConvLayer (conv_test.go) in PyTorch.

Same layers (batch 128, float32, stride 1, no bias):

    c1-1to16-k5-28x28    x (128, 1, 28, 28),  w (16, 1, 5, 5),   padding 2
    c2-16to32-k5-14x14   x (128, 16, 14, 14), w (32, 16, 5, 5),  padding 2
    k3-32to64-13x13      x (128, 32, 13, 13), w (64, 32, 3, 3),  padding 0

and the same work per iteration: y = conv2d(x, w), then y.backward(dy) for a
fixed dy, which computes dx and dw. FLOPs per iteration: 3 · 2·N·O·OH·OW·C·K·K.

Each PyTorch measurement runs in a fresh interpreter whose environment has
OPENBLAS_CORETYPE=SkylakeX (PyTorch's best BLAS kernels on this AVX-512 Xeon)
and OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = t, set before torch is imported,
plus torch.set_num_threads(t); it reports the OpenBLAS core it loaded and
whether oneDNN (mkldnn) ran the convolution.

With --vs-go the script also runs the Go benchmark, alternating with the
PyTorch measurements round by round so that both see the same machine load,
and prints medians and ratios. Run from the repository root, under the
benchmark lock, e.g.

    flock /tmp/gradlab-bench.lock /usr/bin/python3 benchmarks/torch_conv.py --vs-go --rounds 5

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

import torch_env

LAYERS = {
    "c1-1to16-k5-28x28": dict(n=128, c=1, h=28, w=28, o=16, k=5, pad=2),
    "c2-16to32-k5-14x14": dict(n=128, c=16, h=14, w=14, o=32, k=5, pad=2),
    "k3-32to64-13x13": dict(n=128, c=32, h=13, w=13, o=64, k=3, pad=0),
}


def flops(l):
    oh = l["h"] + 2 * l["pad"] - l["k"] + 1
    ow = l["w"] + 2 * l["pad"] - l["k"] + 1
    return 3 * 2 * l["n"] * l["o"] * oh * ow * l["c"] * l["k"] * l["k"]


def child(threads, seconds):
    """Runs in the fresh interpreter: times every layer, prints JSON."""
    import ctypes
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    core = "unknown"
    try:
        core = ctypes.CDLL("libopenblas.so.0").openblas_get_corename
        core.restype = ctypes.c_char_p
        core = core().decode()
    except (OSError, AttributeError):
        pass
    out = {"threads": torch.get_num_threads(), "openblas_core": core,
           "mkldnn": torch.backends.mkldnn.is_available(), "torch": torch.__version__, "layers": {}}
    for name, l in LAYERS.items():
        x = torch.randn(l["n"], l["c"], l["h"], l["w"], requires_grad=True)
        w = (torch.randn(l["o"], l["c"], l["k"], l["k"]) / (l["c"] * l["k"] ** 2) ** 0.5).requires_grad_(True)
        y = F.conv2d(x, w, padding=l["pad"])
        dy = torch.randn_like(y)

        def step():
            x.grad = None
            w.grad = None
            F.conv2d(x, w, padding=l["pad"]).backward(dy)

        for _ in range(3):
            step()
        times = []
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(times) < 5:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        sec = statistics.median(times)
        out["layers"][name] = {"ms": sec * 1e3, "gflops": flops(l) / sec / 1e9}
    print(json.dumps(out))


def run_torch(threads, seconds):
    env = torch_env.child_env(threads)
    res = subprocess.run([sys.executable, __file__, "--child", str(threads), "--seconds", str(seconds)],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


BENCH = re.compile(r"^BenchmarkConvLayer/(\S+?)/(gradlab|gorgonia)(?:-\d+)?\s+\d+\s+(\d+(?:\.\d+)?) ns/op.*?([\d.]+) GFLOP/s")


def run_go(binary, benchtime, impls):
    res = subprocess.run([binary, "-test.run", "^$", "-test.bench", f"ConvLayer/.*/({impls})$", "-test.benchtime", benchtime],
                         check=True, capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    got = {}
    for line in res.stdout.splitlines():
        m = BENCH.match(line)
        if m:
            got[(m.group(1), m.group(2))] = {"ms": float(m.group(3)) / 1e6, "gflops": float(m.group(4))}
        if line.startswith("Benchmark"):
            print("   ", line, flush=True)
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vs-go", action="store_true", help="alternate with the Go benchmark")
    ap.add_argument("--benchtime", default="3s", help="Go -test.benchtime per round")
    ap.add_argument("--impls", default="gradlab|gorgonia", help="Go implementations, a regexp (e.g. gradlab)")
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.seconds)
        return
    binary = None
    if args.vs_go:
        binary = "/tmp/gradlab-conv-bench.test"
        subprocess.run(["go", "test", "-c", "-o", binary, "./benchmarks"], check=True)
    samples = {}  # (layer, impl) -> list of ms
    meta = {}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        if binary:
            for key, v in run_go(binary, args.benchtime, args.impls).items():
                samples.setdefault(key, []).append(v["ms"])
        for t in (1, 2):
            res = run_torch(t, args.seconds)
            meta[t] = {k: res[k] for k in ("threads", "openblas_core", "mkldnn", "torch")}
            for name, v in res["layers"].items():
                samples.setdefault((name, f"pytorch-{t}t"), []).append(v["ms"])
                print(f"    pytorch threads={t} {name}: {v['ms']:.2f} ms, {v['gflops']:.1f} GFLOP/s", flush=True)
    print()
    for t, m in sorted(meta.items()):
        print(f"PyTorch {m['torch']}, torch.get_num_threads()={m['threads']}, OpenBLAS core {m['openblas_core']}, "
              f"mkldnn available {m['mkldnn']}; env {torch_env.describe(torch_env.child_env(t))}")
    print()
    print("| layer | impl | median ms | range ms | GFLOP/s | gradlab speed-up |")
    print("|---|---|---:|---:|---:|---:|")
    for name, l in LAYERS.items():
        ours = samples.get((name, "gradlab"))
        for impl in ("gradlab", "gorgonia", "pytorch-1t", "pytorch-2t"):
            s = samples.get((name, impl))
            if not s:
                continue
            ms = statistics.median(s)
            ratio = f"{ms / statistics.median(ours):.2f}×" if ours and impl != "gradlab" else ""
            print(f"| {name} | {impl} | {ms:.2f} | {min(s):.2f}–{max(s):.2f} | {flops(l) / ms / 1e6:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
