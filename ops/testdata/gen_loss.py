#!/usr/bin/python3
"""Golden values for gradlab's losses (ops/loss.go, ops/xent.go) from PyTorch
(Debian's python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 ops/testdata/gen_loss.py
It writes ops/testdata/loss.json. Every case holds the inputs, a fixed scalar
r, the loss L and the gradients of r·L (so that a kernel ignoring its
upstream gradient fails). Everything is float64 with reduction="mean".

xent cases: torch.nn.functional.cross_entropy with label_smoothing and
ignore_index. gradlab's logits are (d1, ..., dk, V) with labels (d1, ..., dk);
torch wants the classes second, so k = 2 cases permute the logits to
(N, V, T) and k = 3 cases reshape them to (N·T·S, V) with flat labels (both
layouts are torch's own). "ignore": false means no label equals torch's
default ignore_index (-100), so torch ignores nothing either.

pointwise cases: binary_cross_entropy_with_logits, mse_loss, l1_loss and
huber_loss(delta=...), with gradients for both the input and the target. The
l1 and huber cases place differences exactly at 0 and exactly at +-delta,
where torch's gradient is sign(0) = 0 and delta*sign(d).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20261203)
torch.set_default_dtype(torch.float64)

XENT = [
    # name, logits shape, smoothing, ignore, ignore_index, ignored positions (flat), scale of the logits
    ("n=5/v=4", (5, 4), 0.0, False, -100, [], 2.0),
    ("n=1/v=6", (1, 6), 0.0, False, -100, [], 2.0),
    ("n=7/v=2", (7, 2), 0.0, False, -100, [], 3.0),
    ("large/n=3/v=3", (3, 3), 0.0, False, -100, [], None),
    ("smooth=0.1/n=6/v=5", (6, 5), 0.1, False, -100, [], 2.0),
    ("smooth=0.3/n=1/v=2", (1, 2), 0.3, False, -100, [], 2.0),
    ("smooth=0.1/large/n=3/v=3", (3, 3), 0.1, False, -100, [], None),
    ("ntv/n=2/t=3/v=5", (2, 3, 5), 0.0, False, -100, [], 2.0),
    ("ntv/smooth=0.2/n=3/t=4/v=3", (3, 4, 3), 0.2, False, -100, [], 2.0),
    ("ntv/ignore=-100/n=2/t=4/v=5", (2, 4, 5), 0.0, True, -100, [3, 6, 7], 2.0),
    ("ntv/ignore=0/n=3/t=3/v=4", (3, 3, 4), 0.0, True, 0, [2, 5], 2.0),
    ("ntv/ignore=-1/smooth=0.15/n=2/t=5/v=6", (2, 5, 6), 0.15, True, -1, [0, 4, 9], 2.0),
    ("ntv/ignore=-100/n=1/t=1/v=2", (1, 1, 2), 0.0, True, -100, [], 2.0),
    ("ntsv/ignore=-100/smooth=0.1/n=2/t=2/s=3/v=4", (2, 2, 3, 4), 0.1, True, -100, [1, 10], 2.0),
]

# name, loss, shape, delta
POINTWISE = [
    ("bce/n=4/k=3", "bce", (4, 3), None),
    ("bce/n=1/k=1", "bce", (1, 1), None),
    ("bce/large/n=2/t=2/k=3", "bce", (2, 2, 3), None),
    ("mse/n=5/k=2", "mse", (5, 2), None),
    ("mse/n=7", "mse", (7,), None),
    ("mse/n=2/t=3/k=2", "mse", (2, 3, 2), None),
    ("l1/n=5/k=3", "l1", (5, 3), None),
    ("l1/n=2/t=2/k=2", "l1", (2, 2, 2), None),
    ("huber/delta=1/n=6/k=3", "huber", (6, 3), 1.0),
    ("huber/delta=0.3/n=4/k=4", "huber", (4, 4), 0.3),
    ("huber/delta=2.5/n=3/t=2/k=2", "huber", (3, 2, 2), 2.5),
]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def xent_case(name, shape, smoothing, ignore, ignore_index, ignored, scale):
    v = shape[-1]
    if scale is None:  # rows from ops_test's stability test: finite only if computed stably
        z = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, 0.0]])
    else:
        z = scale * torch.randn(shape)
    z.requires_grad_(True)
    y = torch.randint(0, v, shape[:-1])
    yf = y.reshape(-1)
    for i in ignored:
        yf[i] = ignore_index
    lead = len(shape) - 1
    if lead == 1:
        loss = F.cross_entropy(z, y, label_smoothing=smoothing, ignore_index=ignore_index)
    elif lead == 2:
        loss = F.cross_entropy(z.permute(0, 2, 1), y, label_smoothing=smoothing, ignore_index=ignore_index)
    else:
        loss = F.cross_entropy(z.reshape(-1, v), y.reshape(-1), label_smoothing=smoothing,
                               ignore_index=ignore_index)
    r = float(torch.empty(()).uniform_(0.5, 2.0))
    (loss * r).backward()
    return {"name": name, "shape": list(shape), "smoothing": smoothing, "ignore": ignore,
            "ignore_index": ignore_index, "logits": flat(z), "labels": [int(a) for a in yf.tolist()],
            "r": r, "loss": float(loss), "dlogits": flat(z.grad)}


def pointwise_case(name, kind, shape, delta):
    n = 1
    for s in shape:
        n *= s
    if kind == "bce":
        x = 3 * torch.randn(shape)
        t = torch.rand(shape)
        if "large" in name:
            xf, tf = x.view(-1), t.view(-1)
            xf[0], xf[1], xf[2], xf[3] = 40.0, -40.0, 800.0, -800.0
            tf[0], tf[1], tf[4], tf[5] = 0.0, 1.0, 0.0, 1.0
    else:
        x = 2 * torch.randn(shape)
        t = 2 * torch.randn(shape)
        xf, tf = x.view(-1), t.view(-1)
        if kind in ("l1", "huber"):
            xf[1] = tf[1]  # d = 0
        if kind == "huber":
            # d exactly +delta and -delta: 1.5 - 0.5 and the like are exact.
            xf[2], tf[2] = 0.5 + delta, 0.5
            xf[3], tf[3] = 0.25 - delta, 0.25
    x.requires_grad_(True)
    t.requires_grad_(True)
    if kind == "bce":
        loss = F.binary_cross_entropy_with_logits(x, t)
    elif kind == "mse":
        loss = F.mse_loss(x, t)
    elif kind == "l1":
        loss = F.l1_loss(x, t)
    else:
        loss = F.huber_loss(x, t, delta=delta)
    r = float(torch.empty(()).uniform_(0.5, 2.0))
    (loss * r).backward()
    return {"name": name, "loss_fn": kind, "shape": list(shape), "delta": delta, "x": flat(x), "t": flat(t),
            "r": r, "loss": float(loss), "dx": flat(x.grad), "dt": flat(t.grad)}


def main():
    out = {"torch": torch.__version__,
           "xent": [xent_case(*c) for c in XENT],
           "pointwise": [pointwise_case(*c) for c in POINTWISE]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loss.json")
    # One case per line: compact, and a regenerated file diffs by case.
    with open(path, "w") as f:
        f.write('{"torch": %s,\n' % json.dumps(out["torch"]))
        for key in ("xent", "pointwise"):
            f.write(' "%s": [\n  ' % key)
            f.write(",\n  ".join(json.dumps(c) for c in out[key]))
            f.write("\n ]%s\n" % ("," if key == "xent" else ""))
        f.write("}\n")


if __name__ == "__main__":
    main()
