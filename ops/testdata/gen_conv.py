#!/usr/bin/python3
"""Golden values for ops.Conv2D, MaxPool2D and AvgPool2D from PyTorch
(Debian's python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 ops/testdata/gen_conv.py
It writes ops/testdata/conv.json. For each case: the inputs, a fixed upstream
gradient r of the loss sum(y ⊙ r), the output y and the gradients. Conv cases
use torch.nn.functional.conv2d with a bias (gradlab: Conv2D then BiasAdd);
pool cases use max_pool2d / avg_pool2d with their defaults (floor mode,
count_include_pad=True). A pool stride of null means PyTorch's default (the
kernel), which gradlab spells as a zero Stride. The max-pool "ties" cases draw
x from {0, 1, 2} so that windows hold several maxima: PyTorch routes the
gradient to the first one in row-major order. Everything is float64.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20261201)
torch.set_default_dtype(torch.float64)

CONV = [
    # name, x shape (N, C, H, W), w shape (O, C, KH, KW), stride, padding, dilation
    ("plain/n=1", (1, 1, 5, 5), (1, 1, 3, 3), (1, 1), (0, 0), (1, 1)),
    ("c3-o5/k3x2/s2/p1/n=2", (2, 3, 7, 6), (5, 3, 3, 2), (2, 2), (1, 1), (1, 1)),
    ("c3-o5/k2x3/s3/p2/n=2", (2, 3, 8, 9), (5, 3, 2, 3), (3, 3), (2, 2), (1, 1)),
    ("c3-o5/k3x2/d2/p2x1/n=1", (1, 3, 9, 7), (5, 3, 3, 2), (1, 1), (2, 1), (2, 2)),
    ("c2-o5/k3x2/s2x3/p0x2/d2x1/n=3", (3, 2, 10, 8), (5, 2, 3, 2), (2, 3), (0, 2), (2, 1)),
    ("c1-o4/k5/p2/n=3", (3, 1, 12, 11), (4, 1, 5, 5), (1, 1), (2, 2), (1, 1)),
    ("c4-o6/k5/p2/n=2", (2, 4, 7, 7), (6, 4, 5, 5), (1, 1), (2, 2), (1, 1)),
    ("c3-o2/k1/n=2", (2, 3, 4, 5), (2, 3, 1, 1), (1, 1), (0, 0), (1, 1)),
]

POOL = [
    # name, kind, x shape, kernel, stride (None: the kernel), padding, ties
    ("k2/n=1", "max", (1, 1, 4, 6), (2, 2), None, (0, 0), False),
    ("k3x2/s2x1/p1/n=2", "max", (2, 3, 7, 6), (3, 2), (2, 1), (1, 1), False),
    ("k3/s3/p1/n=2", "max", (2, 3, 8, 7), (3, 3), (3, 3), (1, 1), False),
    ("k2x3/s1x2/n=3", "max", (3, 2, 5, 9), (2, 3), (1, 2), (0, 0), False),
    ("ties/k3/s1/p1/n=2", "max", (2, 2, 6, 5), (3, 3), (1, 1), (1, 1), True),
    ("ties/k2/n=2", "max", (2, 3, 6, 8), (2, 2), None, (0, 0), True),
    ("k2/n=1", "avg", (1, 1, 4, 6), (2, 2), None, (0, 0), False),
    ("k3x2/s2x1/p1/n=2", "avg", (2, 3, 7, 6), (3, 2), (2, 1), (1, 1), False),
    ("k3/s3/p1/n=2", "avg", (2, 3, 8, 7), (3, 3), (3, 3), (1, 1), False),
    ("k5/s2/p2/n=1", "avg", (1, 3, 9, 8), (5, 5), (2, 2), (2, 2), False),
]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def conv_case(name, xs, ws, stride, padding, dilation):
    x = torch.randn(xs, requires_grad=True)
    w = (0.5 * torch.randn(ws)).requires_grad_(True)
    b = torch.randn(ws[0], requires_grad=True)
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    r = torch.randn(y.shape)
    (y * r).sum().backward()
    return {"name": name, "x_shape": list(xs), "w_shape": list(ws), "stride": list(stride),
            "padding": list(padding), "dilation": list(dilation), "y_shape": list(y.shape),
            "x": flat(x), "w": flat(w), "b": flat(b), "r": flat(r),
            "y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad)}


def pool_case(name, kind, xs, kernel, stride, padding, ties):
    if ties:
        x = torch.randint(0, 3, xs).to(torch.float64).requires_grad_(True)
    else:
        x = torch.randn(xs, requires_grad=True)
    f = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = f(x, kernel, stride=stride, padding=padding)
    r = torch.randn(y.shape)
    (y * r).sum().backward()
    return {"name": name, "kind": kind, "x_shape": list(xs), "kernel": list(kernel),
            "stride": list(stride) if stride is not None else None, "padding": list(padding),
            "y_shape": list(y.shape), "x": flat(x), "r": flat(r), "y": flat(y), "dx": flat(x.grad)}


def main():
    out = {"torch": torch.__version__,
           "conv": [conv_case(*c) for c in CONV],
           "pool": [pool_case(*c) for c in POOL]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv.json")
    # One case per line: compact, and a regenerated file diffs by case.
    with open(path, "w") as f:
        f.write('{"torch": %s,\n' % json.dumps(out["torch"]))
        for key in ("conv", "pool"):
            f.write(' "%s": [\n  ' % key)
            f.write(",\n  ".join(json.dumps(c) for c in out[key]))
            f.write("\n ]%s\n" % ("," if key == "conv" else ""))
        f.write("}\n")


if __name__ == "__main__":
    main()
