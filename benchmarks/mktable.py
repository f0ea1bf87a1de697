#!/usr/bin/env python3
"""Summarise `go test -bench 'Solvers|MemoryBandwidth'` output (and optionally
torch_solvers.py output) as the Markdown table in README.md.

    python3 benchmarks/mktable.py results/go-bench.txt [results/torch.txt]

Medians over -count runs. For each solver, dtype and n: gradlab's ns/elem and
MB/s, that MB/s as a percentage of the parallel stream triad of the same dtype
and n measured in the same run, Gorgonia's ns/elem and the speed-up
(Gorgonia time / gradlab time), allocs/op of both (the largest of the runs),
PyTorch's ns/elem with 1 and 2 threads, and gradlab's speed-up over the
faster of the two.
"""
import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r"^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) MB/s)?(?:\s+(\d+) B/op\s+(\d+) allocs/op)?")
TORCH = re.compile(r"^TorchSolvers/(\S+)/torch-threads=(\d)/(\S+)/n=(\d+)\s+([\d.]+) ns/op")


def main():
    runs = defaultdict(lambda: defaultdict(list))
    for line in open(sys.argv[1]):
        m = LINE.match(line)
        if not m:
            continue
        name, ns, mbs, _, allocs = m.groups()
        r = runs[name]
        r["ns"].append(float(ns))
        if mbs:
            r["mbs"].append(float(mbs))
        if allocs is not None:
            r["allocs"].append(int(allocs))
    torch = {}
    if len(sys.argv) > 2:
        for line in open(sys.argv[2]):
            m = TORCH.match(line)
            if m:
                s, th, dt, n, ns = m.groups()
                torch[(s, th, dt, n)] = float(ns) / int(n)
    med = lambda r, k: statistics.median(r[k]) if r.get(k) else None

    print("| solver | dtype | n | gradlab ns/elem | gradlab MB/s | % triad | allocs | Gorgonia ns/elem | allocs | speed-up | torch 1 thr ns/elem | torch 2 thr ns/elem | vs best torch |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    solvers = []
    for name in runs:
        if name.startswith("Solvers/"):
            s = name.split("/")[1]
            if s not in solvers:
                solvers.append(s)
    for s in solvers:
        for dt in ("float32", "float64"):
            for n in ("10000", "1048576", "16777216"):
                ours = runs.get(f"Solvers/{s}/gradlab/{dt}/n={n}")
                if not ours:
                    continue
                theirs = runs.get(f"Solvers/{s}/gorgonia/{dt}/n={n}")
                triad = runs.get(f"MemoryBandwidth/parallel/{dt}/n={n}")
                ons = med(ours, "ns")
                row = [s, dt, n, f"{ons / int(n):.3f}", f"{med(ours, 'mbs'):.0f}",
                       f"{100 * med(ours, 'mbs') / med(triad, 'mbs'):.0f}%" if triad else "",
                       f"{max(ours['allocs']):.0f}"]
                if theirs:
                    tns = med(theirs, "ns")
                    row += [f"{tns / int(n):.3f}", f"{max(theirs['allocs']):.0f}", f"{tns / ons:.1f}×"]
                else:
                    row += ["—", "—", "—"]
                best = None
                for th in ("1", "2"):
                    t = torch.get((s, th, dt, n))
                    row.append(f"{t:.3f}" if t is not None else "—")
                    if t is not None and (best is None or t < best):
                        best = t
                row.append(f"{best * int(n) / ons:.2f}×" if best is not None else "—")
                print("| " + " | ".join(row) + " |")
    print()
    print("| stream triad | dtype | n | serial MB/s | parallel MB/s |")
    print("|---|---|---|---:|---:|")
    for dt in ("float32", "float64"):
        for n in ("10000", "1048576", "16777216"):
            se = runs.get(f"MemoryBandwidth/serial/{dt}/n={n}")
            pa = runs.get(f"MemoryBandwidth/parallel/{dt}/n={n}")
            if se and pa:
                print(f"| triad | {dt} | {n} | {med(se, 'mbs'):.0f} | {med(pa, 'mbs'):.0f} |")


if __name__ == "__main__":
    main()
