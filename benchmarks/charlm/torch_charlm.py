"""The PyTorch twin of a gradlab charlm run (benchmarks/CHARLM.md).

    go run ./benchmarks/charlm/twin -config runs/charlm/config.json -o runs/charlm/twin.safetensors
    /usr/bin/python3 benchmarks/charlm/torch_charlm.py --twin runs/charlm/twin.safetensors --threads 1

repeats the run in PyTorch from the same initial weights (the twin file's
param/…), over the same windows in the same order (order/e), with the same
optimizer (torch.optim.AdamW, gradlab's betas, eps and decoupled decay on
every parameter), the same schedule (train.Schedule.LR: linear warm-up, then
cosine), the same global-norm gradient clipping, and the same loss (the mean
cross-entropy over every position). After each epoch it measures the
held-out span (bits per character = loss / ln 2), as gradlab does.

Architectures: lstm and gru (torch.nn.LSTM / GRU, one module per layer, the
parameter layouts are PyTorch's already) and transformer (pre-norm blocks
written out with gradlab's parameter names: x·W layouts are transposed into
torch.nn.Linear's). Dropout after each recurrent layer is repeated as
F.dropout (inverted, as gradlab's); its masks are the one difference (PyTorch
draws its own), so --check needs a run without dropout; a transformer with
dropout is refused.

PyTorch runs in a child process with the environment of torch_env.py (its
best BLAS settings for this machine, thread count fixed before import).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch_env  # noqa: E402
from torch_train import read_twin, schedule_lr  # noqa: E402


def build(cfg, tensors):
    """The network of the run's configuration, its parameters copied from the
    twin file's param/… (tensors None: PyTorch's initialization, for the
    step benchmark)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    mc = cfg["model"]["config"]
    arch, W, V, depth = mc["arch"], mc["width"], mc["vocab"], mc["depth"]
    drop = mc.get("dropout") or 0
    if drop and arch == "transformer":
        raise SystemExit("the twin repeats dropout of lstm and gru models only")
    P = None
    if tensors is not None:
        P = {k[len("param/"):]: torch.from_numpy(v.copy()) for k, v in tensors.items() if k.startswith("param/")}

    def load(param, name, transpose=False):
        if P is not None:
            with torch.no_grad():
                param.copy_(P[name].T if transpose else P[name])

    def linear(prefix, n_in, n_out):
        lin = nn.Linear(n_in, n_out)
        load(lin.weight, prefix + "/w", transpose=True)
        load(lin.bias, prefix + "/b")
        return lin

    def norm(prefix, n):
        ln = nn.LayerNorm(n)
        load(ln.weight, prefix + "/weight")
        load(ln.bias, prefix + "/bias")
        return ln

    class Block(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.heads = mc["heads"]
            self.ln1, self.ln2 = norm(p + "/ln1", W), norm(p + "/ln2", W)
            self.q, self.k, self.v = (linear(f"{p}/attn/{n}", W, W) for n in "qkv")
            self.out = linear(p + "/attn/out", W, W)
            self.fc1, self.fc2 = linear(p + "/fc1", W, 4 * W), linear(p + "/fc2", 4 * W, W)

        def forward(self, x):
            N, T, _ = x.shape
            h = self.ln1(x)
            split = lambda t: t.view(N, T, self.heads, W // self.heads).transpose(1, 2)  # noqa: E731
            q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
            s = q @ k.transpose(-1, -2) / math.sqrt(W // self.heads)
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            a = torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1) @ v
            x = x + self.out(a.transpose(1, 2).reshape(N, T, W))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(V, W)
            load(self.tok.weight, "tok/weight")
            if arch == "transformer":
                self.pos = nn.Parameter(torch.randn(mc["context"], W) * 0.02)
                load(self.pos, "pos/weight")
                self.blocks = nn.ModuleList(Block(f"block{i + 1}") for i in range(depth))
                self.ln_f = norm("ln_f", W)
            else:
                cell = nn.LSTM if arch == "lstm" else nn.GRU
                self.rnns = nn.ModuleList(cell(W, W, batch_first=True) for _ in range(depth))
                for i, r in enumerate(self.rnns):
                    for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                        load(getattr(r, n), f"rnn{i + 1}/{n}")
            self.head = linear("head", W, V)

        def forward(self, x):
            h = self.tok(x)
            if arch == "transformer":
                h = h + self.pos[: x.shape[1]]
                for b in self.blocks:
                    h = b(h)
                h = self.ln_f(h)
            else:
                for r in self.rnns:
                    h, _ = r(h)
                    if drop:
                        h = F.dropout(h, drop, self.training)
            return self.head(h)

    net = Net()
    n_torch = sum(p.numel() for p in net.parameters())
    n_go = n_torch if P is None else sum(v.numel() for v in P.values())
    if n_torch != n_go:
        raise SystemExit(f"{n_torch} parameters in the twin, {n_go} in gradlab's model")
    return net


def windows(ids, T):
    import torch
    n = (len(ids) - 1) // T
    ids = torch.from_numpy(ids.copy())
    return ids[: n * T].view(n, T), ids[1: n * T + 1].view(n, T)


def check(net, ckpt):
    """Prints, per parameter, the largest difference between the twin's
    weights after its run and those of gradlab's checkpoint of the same run;
    returns the largest of all."""
    import numpy as np
    tensors, _ = read_twin(ckpt)
    got = {}
    for name, p in net.named_parameters():
        got[name] = p.detach().numpy()
    # gradlab's names → the twin's module names (x·W layouts transposed).
    worst = 0.0
    for gname, want in sorted(tensors.items()):
        if not gname.startswith("param/"):
            continue
        n = gname[len("param/"):]
        mod, _, leaf = n.rpartition("/")
        tname = {"tok/weight": "tok.weight", "pos/weight": "pos", "head/w": "head.weight", "head/b": "head.bias"}.get(n)
        transpose = n == "head/w"
        if tname is None and mod.startswith("rnn"):
            tname = f"rnns.{int(mod[3:]) - 1}.{leaf}"
        if tname is None and mod.startswith("block"):
            i, rest = mod.split("/", 1)[0][5:], n.split("/", 1)[1]
            part, _, leaf = rest.rpartition("/")
            part = {"attn/q": "q", "attn/k": "k", "attn/v": "v", "attn/out": "out"}.get(part, part)
            tname = f"blocks.{int(i) - 1}.{part}." + {"w": "weight", "b": "bias"}.get(leaf, leaf)
            transpose = leaf == "w"
        if tname is None and mod == "ln_f":
            tname = "ln_f." + leaf
        v = got.pop(tname)
        d = float(np.max(np.abs((v.T if transpose else v) - want)))
        worst = max(worst, d)
        print(f"  {gname:28s} {str(list(want.shape)):14s} max |torch - gradlab| {d:.3g}")
    if got:
        raise SystemExit(f"twin parameters not in {ckpt}: {sorted(got)}")
    print(f"largest difference {worst:.3g}")
    return worst


def train(path, threads, epochs_limit, json_out, seconds, ckpt=None):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tensors, meta = read_twin(path)
    cfg = json.loads(meta["config"])
    mc, sol = cfg["model"]["config"], cfg["solver"]
    if cfg["optimizer"] != "adamw" or sol.get("WeightDecay"):
        raise SystemExit(f"optimizer {cfg['optimizer']} (the twin repeats adamw with decoupled decay only)")
    T, B, epochs = mc["context"], cfg["batch"], cfg["epochs"]
    xtr, ytr = windows(tensors["tokens/train"], T)
    xte, yte = windows(tensors["tokens/held"], T)
    n = len(xtr)
    net = build(cfg, tensors).train()
    base = sol["LR"]
    betas = (sol.get("Beta1") or 0.9, sol.get("Beta2") or 0.999)
    eps = sol.get("Eps") or 1e-8
    wd = sol.get("DecoupledDecay") or 0.01
    clip = sol.get("ClipNorm") or 0
    opt = torch.optim.AdamW(net.parameters(), lr=base, betas=betas, eps=eps, weight_decay=wd)
    spe = n // B if cfg["drop_last"] else (n + B - 1) // B
    total = spe * epochs
    run_epochs = min(epochs, epochs_limit) if epochs_limit else epochs
    print(f"torch {threads} thread(s): {n} train / {len(xte)} held-out windows of {T}, {mc['arch']} "
          f"{mc['depth']}x{mc['width']}, adamw lr {base} betas {betas} eps {eps} wd {wd} clip {clip}, "
          f"{run_epochs} of {epochs} epochs of {spe} steps (batch {B})", flush=True)
    history, step, start = [], 0, time.perf_counter()
    for e in range(1, run_epochs + 1):
        t0 = time.perf_counter()
        perm = torch.from_numpy(tensors[f"order/{e}"].copy())
        loss_sum, seen = 0.0, 0
        for s in range(spe):
            idx = perm[s * B: min((s + 1) * B, n)]
            lr = schedule_lr(cfg["schedule"], base, step, spe, total)
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            logits = net(xtr.index_select(0, idx))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ytr.index_select(0, idx).reshape(-1))
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            opt.step()
            step += 1
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
        t1 = time.perf_counter()
        net.eval()
        held = 0.0
        with torch.no_grad():
            for lo in range(0, len(xte), 256):
                logits = net(xte[lo:lo + 256])
                held += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yte[lo:lo + 256].reshape(-1),
                                        reduction="sum").item()
        net.train()
        t2 = time.perf_counter()
        held /= yte.numel()
        row = {"epoch": e, "train_loss": loss_sum / seen, "held_loss": held, "held_bpc": held / math.log(2),
               "lr": lr, "train_s": t1 - t0, "eval_s": t2 - t1, "elapsed_s": t2 - start,
               "tokens_per_s": seen * T / (t1 - t0)}
        history.append(row)
        print(f"epoch {e}/{epochs}  train loss {row['train_loss']:.4f}  held-out loss {held:.4f} "
              f"bits per character {row['held_bpc']:.4f}  {row['tokens_per_s']:.0f} tokens/s  "
              f"{t2 - t0:.1f}s (elapsed {row['elapsed_s']:.1f}s)", flush=True)
        if seconds and t2 - start >= seconds:
            print(f"stopping after {t2 - start:.1f}s (--seconds {seconds})", flush=True)
            break
    if ckpt:
        check(net, ckpt)
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"threads": threads, "env": torch_env.describe(os.environ), "epochs": history}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--twin", required=True, help="twin file of the gradlab run (benchmarks/charlm/twin)")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (BLAS and OpenMP too)")
    ap.add_argument("--epochs", type=int, default=0, help="run only the first N epochs (0: all)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after the epoch that passes N seconds (0: never)")
    ap.add_argument("--json", help="write the per-epoch results here")
    ap.add_argument("--check", metavar="CKPT", help="after the run, compare the weights with this gradlab checkpoint (of the same run)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        train(args.twin, args.threads, args.epochs, args.json, args.seconds, args.check)
        return 0
    env = torch_env.child_env(args.threads)
    print(f"torch {args.threads} thread(s) runs with {torch_env.describe(env)}", flush=True)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--twin", args.twin, "--threads", str(args.threads),
           "--epochs", str(args.epochs), "--seconds", str(args.seconds)]
    if args.json:
        cmd += ["--json", args.json]
    if args.check:
        cmd += ["--check", args.check]
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
