#!/usr/bin/python3
"""Golden optimizer trajectories from PyTorch for gradlab's solvers tests.

Run with Debian's python3-torch 1.13 (CI does not need torch; the output is
committed):

    /usr/bin/python3 solvers/testdata/gen_golden.py > solvers/testdata/golden.json

Every case starts from the same initial weights and consumes the same gradient
sequence (drawn once from a seeded generator, independent of the weights), in
float64, and records the weights after every step. "config" holds gradlab's
solvers.Config fields for the same math.

References: torch.optim in single-tensor mode (foreach=False) for sgd,
momentum, nesterov, adagrad, rmsprop, adadelta, adam, amsgrad, adamw, adamax.
Two are written out by hand here:
  * NAdam: torch 1.13's NAdam computes mu_product_next = mu_product * mu * mu_next
    (mu counted twice); PyTorch 2.0 fixed it to mu_product * mu_next. nadam()
    below is 1.13's _single_tensor_nadam with that fix. The case "nadam-torch113"
    records torch 1.13's own optimizer, which gradlab is expected NOT to match.
  * Lion is not in torch 1.13: lion() follows Algorithm 2 of Chen et al. (2023),
    "Symbolic Discovery of Optimization Algorithms".
"""
import json
import math

import torch

assert torch.__version__.startswith("1.13"), torch.__version__
torch.set_default_dtype(torch.float64)

STEPS = 60
SHAPES = [("layer/W", (4, 3)), ("layer/b", (3,))]

gen = torch.Generator().manual_seed(20231121)
INIT = [torch.randn(s, generator=gen) for _, s in SHAPES]
GRADS = [[torch.randn(s, generator=gen) * (1.0 + 0.5 * math.sin(t)) for _, s in SHAPES]
         for t in range(STEPS)]


class HandNAdam:
    """torch 1.13 _single_tensor_nadam with PyTorch 2.0's mu_product_next fix."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3):
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.wd, self.psi = weight_decay, momentum_decay
        self.state = [dict(step=0, mu_product=1.0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                      for p in self.params]

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        for p, st in zip(self.params, self.state):
            grad = p.grad
            st["step"] += 1
            step = st["step"]
            bias_correction2 = 1 - b2 ** step
            if self.wd != 0:
                grad = grad.add(p, alpha=self.wd)
            mu = b1 * (1. - 0.5 * (0.96 ** (step * self.psi)))
            mu_next = b1 * (1. - 0.5 * (0.96 ** ((step + 1) * self.psi)))
            st["mu_product"] *= mu
            mu_product_next = st["mu_product"] * mu_next
            st["m"].mul_(b1).add_(grad, alpha=1 - b1)
            st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = st["v"].div(bias_correction2).sqrt().add_(self.eps)
            p.addcdiv_(grad, denom, value=-self.lr * (1. - mu) / (1. - st["mu_product"]))
            p.addcdiv_(st["m"], denom, value=-self.lr * mu_next / (1. - mu_product_next))


class HandLion:
    """Lion, Algorithm 2 of Chen et al. (2023), with decoupled weight decay."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        self.params = list(params)
        self.lr, self.betas, self.wd = lr, betas, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        for p, m in zip(self.params, self.m):
            g = p.grad
            c = b1 * m + (1 - b1) * g  # interpolation, then sign
            p.mul_(1 - self.lr * self.wd)
            p.add_(torch.sign(c), alpha=-self.lr)
            m.copy_(b2 * m + (1 - b2) * g)


O = torch.optim
CASES = [
    # id, gradlab solver name, gradlab Config, torch factory
    ("sgd", "sgd", dict(LR=0.1), lambda p: O.SGD(p, lr=0.1, foreach=False)),
    ("sgd-wd", "sgd", dict(LR=0.05, WeightDecay=0.1),
     lambda p: O.SGD(p, lr=0.05, weight_decay=0.1, foreach=False)),
    ("momentum", "momentum", dict(LR=0.05, Momentum=0.9),
     lambda p: O.SGD(p, lr=0.05, momentum=0.9, foreach=False)),
    ("momentum-wd", "momentum", dict(LR=0.01, Momentum=0.5, WeightDecay=0.01),
     lambda p: O.SGD(p, lr=0.01, momentum=0.5, weight_decay=0.01, foreach=False)),
    ("nesterov-wd", "nesterov", dict(LR=0.05, Momentum=0.9, WeightDecay=0.05),
     lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05, foreach=False)),
    ("adagrad", "adagrad", dict(LR=0.1), lambda p: O.Adagrad(p, lr=0.1, foreach=False)),
    ("adagrad-wd-decay", "adagrad", dict(LR=0.05, WeightDecay=0.1, LRDecay=0.01, Eps=1e-6),
     lambda p: O.Adagrad(p, lr=0.05, weight_decay=0.1, lr_decay=0.01, eps=1e-6, foreach=False)),
    ("rmsprop", "rmsprop", dict(LR=0.01), lambda p: O.RMSprop(p, lr=0.01, foreach=False)),
    ("rmsprop-centered", "rmsprop", dict(LR=0.01, Rho=0.9, Centered=True),
     lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, centered=True, foreach=False)),
    ("rmsprop-momentum-centered-wd", "rmsprop",
     dict(LR=0.005, Rho=0.95, Momentum=0.8, Centered=True, WeightDecay=0.05, Eps=1e-6),
     lambda p: O.RMSprop(p, lr=0.005, alpha=0.95, momentum=0.8, centered=True,
                         weight_decay=0.05, eps=1e-6, foreach=False)),
    ("adadelta", "adadelta", dict(), lambda p: O.Adadelta(p, foreach=False)),
    ("adadelta-wd", "adadelta", dict(LR=0.5, Rho=0.95, Eps=1e-5, WeightDecay=0.1),
     lambda p: O.Adadelta(p, lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1, foreach=False)),
    ("adam", "adam", dict(LR=0.01), lambda p: O.Adam(p, lr=0.01, foreach=False)),
    ("adam-wd", "adam", dict(LR=0.02, Beta1=0.8, Beta2=0.99, Eps=1e-6, WeightDecay=0.1),
     lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False)),
    ("amsgrad-wd", "amsgrad", dict(LR=0.01, WeightDecay=0.05),
     lambda p: O.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.05, foreach=False)),
    ("adamw", "adamw", dict(LR=0.05), lambda p: O.AdamW(p, lr=0.05, foreach=False)),
    ("adamw-wd", "adamw", dict(LR=0.01, DecoupledDecay=0.1, Beta2=0.99),
     lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1, betas=(0.9, 0.99), foreach=False)),
    ("adamax", "adamax", dict(LR=0.01), lambda p: O.Adamax(p, lr=0.01, foreach=False)),
    ("adamax-wd", "adamax", dict(LR=0.02, Beta1=0.8, Beta2=0.99, WeightDecay=0.1),
     lambda p: O.Adamax(p, lr=0.02, betas=(0.8, 0.99), weight_decay=0.1, foreach=False)),
    ("nadam", "nadam", dict(LR=0.01), lambda p: HandNAdam(p, lr=0.01)),
    ("nadam-wd", "nadam", dict(LR=0.02, WeightDecay=0.1, MomentumDecay=0.01),
     lambda p: HandNAdam(p, lr=0.02, weight_decay=0.1, momentum_decay=0.01)),
    ("nadam-torch113", "nadam", dict(LR=0.01), lambda p: O.NAdam(p, lr=0.01)),
    ("lion", "lion", dict(LR=1e-3), lambda p: HandLion(p, lr=1e-3)),
    ("lion-wd", "lion", dict(LR=3e-3, Beta1=0.95, Beta2=0.98, DecoupledDecay=0.5),
     lambda p: HandLion(p, lr=3e-3, betas=(0.95, 0.98), weight_decay=0.5)),
]


def run(factory):
    params = [x.clone().requires_grad_(True) for x in INIT]
    opt = factory(params)
    traj = []
    for t in range(STEPS):
        for p, g in zip(params, GRADS[t]):
            p.grad = g.clone()
        opt.step()
        traj.append([p.detach().reshape(-1).tolist() for p in params])
    return traj


def main():
    out = dict(
        torch=torch.__version__,
        steps=STEPS,
        params=[dict(name=n, shape=list(s), init=x.reshape(-1).tolist())
                for (n, s), x in zip(SHAPES, INIT)],
        grads=[[g.reshape(-1).tolist() for g in gs] for gs in GRADS],
        cases=[dict(id=i, solver=s, config=c, trajectory=run(f)) for i, s, c, f in CASES],
    )
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
