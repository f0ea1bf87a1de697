#!/usr/bin/python3
"""Golden values for ops.BatchNorm from PyTorch (Debian's python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 ops/testdata/gen_batchnorm.py
It writes ops/testdata/batchnorm.json. For each case: γ and β (random, so the
affine part is exercised), several Train-mode steps with different batches —
each with its input x, a fixed upstream gradient r of the loss sum(y ⊙ r), the
output y, the gradients dx, dγ, dβ and the running mean and variance after the
step — then one Eval-mode batch and its output. Everything is float64.
"""
import json
import os

import torch

torch.manual_seed(20261126)
torch.set_default_dtype(torch.float64)

CASES = [
    # name, shape, momentum, eps
    ("1d/8x5/momentum=0.1/eps=1e-5", (8, 5), 0.1, 1e-5),
    ("1d/16x3/momentum=0.3/eps=1e-3", (16, 3), 0.3, 1e-3),
    ("1d/2x4/momentum=0.1/eps=1e-5", (2, 4), 0.1, 1e-5),
    ("2d/4x3x2x3/momentum=0.2/eps=1e-5", (4, 3, 2, 3), 0.2, 1e-5),
]
STEPS = 3


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, shape, momentum, eps):
    c = shape[1]
    bn = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        c, eps=eps, momentum=momentum, affine=True, track_running_stats=True)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.5 * torch.randn(c))
        bn.bias.copy_(0.5 * torch.randn(c))
    out = {"name": name, "shape": list(shape), "momentum": momentum, "eps": eps,
           "gamma": flat(bn.weight), "beta": flat(bn.bias), "steps": []}
    bn.train()
    for step in range(STEPS):
        # Batches with non-zero means and scales that differ per feature and step.
        loc = 3 * torch.randn(c) + step
        scl = 0.5 + torch.rand(c) * 2
        view = (1, c) if len(shape) == 2 else (1, c, 1, 1)
        x = (torch.randn(shape) * scl.view(view) + loc.view(view)).requires_grad_(True)
        r = torch.randn(shape)
        bn.zero_grad()
        y = bn(x)
        (y * r).sum().backward()
        out["steps"].append({
            "x": flat(x), "r": flat(r), "y": flat(y),
            "dx": flat(x.grad), "dgamma": flat(bn.weight.grad), "dbeta": flat(bn.bias.grad),
            "running_mean": flat(bn.running_mean), "running_var": flat(bn.running_var),
        })
    bn.eval()
    x = torch.randn(shape) * 2 + 1
    with torch.no_grad():
        y = bn(x)
    out["eval"] = {"x": flat(x), "y": flat(y)}
    return out


def main():
    data = {"torch": torch.__version__, "cases": [case(*c) for c in CASES]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batchnorm.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
