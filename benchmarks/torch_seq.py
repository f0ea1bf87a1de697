#!/usr/bin/python3
"""The sequence layers of BenchmarkSeqLayer (seq_test.go) in PyTorch.

Same layers (float32) and the same work per iteration, forward then
backward from a fixed output gradient dy:

    lstm-n32-t128-i64-h256      torch.nn.LSTM(64, 256, batch_first=True) on x (32, 128, 64);
                                gradients of x and the four weights
    gru-n32-t128-i64-h256       torch.nn.GRU(64, 256, batch_first=True), the same
    attention-n32-h4-t128-d32   softmax(q·kᵀ/√32)·v with q, k, v (32, 4, 128, 32) (torch 1.13 has no
                                scaled_dot_product_attention); gradients of q, k and v
    layernorm-n4096-d512        F.layer_norm over 512 of x (4096, 512) with γ, β; gradients of x, γ, β

FLOPs per iteration (the matrix products only, backward counted as twice the
forward): LSTM 3·2·N·T·4H·(I+H), GRU 3·2·N·T·3H·(I+H), attention
3·2·2·N·heads·T²·Dh; layer norm is memory-bound and reports none.

Each PyTorch measurement runs in a fresh interpreter whose environment comes
from torch_env.child_env(t) (OPENBLAS_CORETYPE=SkylakeX, ATEN_CPU_CAPABILITY=avx512,
OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = t, set before torch is imported) plus
torch.set_num_threads(t), for t = 1 and 2; it reports the OpenBLAS core it
loaded, whether oneDNN (mkldnn) is available and ATen's CPU capability.

With --vs-go the script also runs the Go benchmark (at GOMAXPROCS 1 and 2,
-test.cpu 1,2), alternating with the PyTorch measurements round by round so
that both see the same machine load, and prints medians and the ratio of
PyTorch's best (the faster of its 1- and 2-thread medians) to each gradlab
setting. Run from the repository root, under the
benchmark lock, e.g.

    flock /tmp/gradlab-bench.lock /usr/bin/python3 benchmarks/torch_seq.py --vs-go --rounds 3

Needs PyTorch (Debian's python3-torch 1.13); use /usr/bin/python3.
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_env  # noqa: E402

LAYERS = {
    "lstm-n32-t128-i64-h256": dict(kind="lstm", n=32, t=128, i=64, h=256),
    "gru-n32-t128-i64-h256": dict(kind="gru", n=32, t=128, i=64, h=256),
    "attention-n32-h4-t128-d32": dict(kind="attention", n=32, heads=4, t=128, dh=32),
    "layernorm-n4096-d512": dict(kind="layernorm", n=4096, d=512),
}


def flops(l):
    k = l["kind"]
    if k == "lstm":
        return 3 * 2 * l["n"] * l["t"] * 4 * l["h"] * (l["i"] + l["h"])
    if k == "gru":
        return 3 * 2 * l["n"] * l["t"] * 3 * l["h"] * (l["i"] + l["h"])
    if k == "attention":
        return 3 * 2 * 2 * l["n"] * l["heads"] * l["t"] ** 2 * l["dh"]
    return 0


def child(threads, seconds):
    """Runs in the fresh interpreter: times every layer, prints JSON."""
    import ctypes
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    core = "unknown"
    try:
        fn = ctypes.CDLL("libopenblas.so.0").openblas_get_corename
        fn.restype = ctypes.c_char_p
        core = fn().decode()
    except (OSError, AttributeError):
        pass
    cap = "unknown"
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
        cap = m.group(1) if m else os.environ.get("ATEN_CPU_CAPABILITY", "default")
    out = {"threads": torch.get_num_threads(), "openblas_core": core, "capability": cap,
           "mkldnn": torch.backends.mkldnn.is_available(), "torch": torch.__version__, "layers": {}}
    for name, l in LAYERS.items():
        k = l["kind"]
        if k in ("lstm", "gru"):
            mod = (torch.nn.LSTM if k == "lstm" else torch.nn.GRU)(l["i"], l["h"], batch_first=True)
            x = torch.randn(l["n"], l["t"], l["i"], requires_grad=True)
            dy = torch.randn(l["n"], l["t"], l["h"])
            params = [x] + list(mod.parameters())

            def fwd():
                return mod(x)[0]
        elif k == "attention":
            shape = (l["n"], l["heads"], l["t"], l["dh"])
            q, kk, v = (torch.randn(shape, requires_grad=True) for _ in range(3))
            dy = torch.randn(shape)
            params = [q, kk, v]
            scale = 1 / math.sqrt(l["dh"])

            def fwd():
                return torch.softmax(q @ kk.transpose(-1, -2) * scale, dim=-1) @ v
        else:
            x = torch.randn(l["n"], l["d"], requires_grad=True)
            g = torch.randn(l["d"], requires_grad=True)
            b = torch.randn(l["d"], requires_grad=True)
            dy = torch.randn(l["n"], l["d"])
            params = [x, g, b]

            def fwd():
                return F.layer_norm(x, (l["d"],), g, b)

        def step():
            for p in params:
                p.grad = None
            fwd().backward(dy)

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
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["env"] = torch_env.describe(env)
    return out


BENCH = re.compile(r"^BenchmarkSeqLayer/(\S+?)/gradlab(?:-(\d+))?\s+\d+\s+(\d+(?:\.\d+)?) ns/op")


def run_go(binary, benchtime, cpus):
    """Runs the Go benchmark at each GOMAXPROCS in cpus (-test.cpu); returns
    {(layer, "gradlab-Nt"): ms}."""
    res = subprocess.run([binary, "-test.run", "^$", "-test.bench", "SeqLayer", "-test.benchtime", benchtime,
                          "-test.cpu", cpus], check=True, capture_output=True, text=True)
    got = {}
    for line in res.stdout.splitlines():
        m = BENCH.match(line)
        if m:
            got[(m.group(1), f"gradlab-{m.group(2) or 1}t")] = float(m.group(3)) / 1e6
        if line.startswith("Benchmark"):
            print("   ", line, flush=True)
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vs-go", action="store_true", help="alternate with the Go benchmark")
    ap.add_argument("--benchtime", default="2s", help="Go -test.benchtime per round")
    ap.add_argument("--go-cpu", default="1,2", help="Go -test.cpu (GOMAXPROCS values) per round")
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.seconds)
        return
    binary = None
    if args.vs_go:
        binary = "/tmp/gradlab-seq-bench.test"
        subprocess.run(["go", "test", "-c", "-o", binary, "./benchmarks"], check=True)
    samples = {}  # (layer, impl) -> list of ms
    meta = {}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        if binary:
            for key, ms in run_go(binary, args.benchtime, args.go_cpu).items():
                samples.setdefault(key, []).append(ms)
        for t in (1, 2):
            res = run_torch(t, args.seconds)
            meta[t] = {k: res[k] for k in ("threads", "openblas_core", "capability", "mkldnn", "torch", "env")}
            for name, v in res["layers"].items():
                samples.setdefault((name, f"pytorch-{t}t"), []).append(v["ms"])
                print(f"    pytorch threads={t} {name}: {v['ms']:.2f} ms", flush=True)
    print()
    for t, m in sorted(meta.items()):
        print(f"PyTorch {m['torch']}, torch.get_num_threads()={m['threads']}, OpenBLAS core {m['openblas_core']}, "
              f"ATen CPU capability {m['capability']}, mkldnn available {m['mkldnn']}; env {m['env']}")
    print()
    print("| layer | impl | median ms | GFLOP/s | PyTorch's best ÷ this (≥ 1: as fast or faster) |")
    print("|---|---|---:|---:|---:|")
    for name, l in LAYERS.items():
        best = min((statistics.median(samples[(name, i)]) for i in ("pytorch-1t", "pytorch-2t") if (name, i) in samples),
                   default=None)
        for impl in ("gradlab-1t", "gradlab-2t", "pytorch-1t", "pytorch-2t"):
            s = samples.get((name, impl))
            if not s:
                continue
            ms = statistics.median(s)
            gf = f"{flops(l) / ms / 1e6:.1f}" if flops(l) else "–"
            ratio = f"{best / ms:.2f}×" if impl.startswith("gradlab") and best else ""
            print(f"| {name} | {impl} | {ms:.2f} | {gf} | {ratio} |")

if __name__ == "__main__":
    main()
