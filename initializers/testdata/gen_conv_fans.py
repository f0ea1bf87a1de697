#!/usr/bin/python3
"""PyTorch's fans and initializer stds for convolution weights, for
initializers' conv-layout tests (Debian's python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 initializers/testdata/gen_conv_fans.py
It writes initializers/testdata/conv_fans.json: for each Conv2d weight shape
(out, in, kh, kw), PyTorch's fan_in and fan_out
(torch.nn.init._calculate_fan_in_and_fan_out), the std kaiming_normal_ uses
(mode="fan_in", nonlinearity="relu": calculate_gain("relu")/sqrt(fan_in)), the
std xavier_normal_ uses (gain 1), and the sample std of one kaiming_normal_
draw, which checks the formula against what the function does.
"""
import json
import math
import os

import torch

torch.manual_seed(20261201)

SHAPES = [(16, 1, 5, 5), (32, 16, 5, 5), (5, 3, 3, 2), (64, 32, 3, 3), (8, 4, 1, 7)]


def case(shape):
    w = torch.empty(shape, dtype=torch.float64)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(w)
    gain = torch.nn.init.calculate_gain("relu")
    torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")
    return {"shape": list(shape), "fan_in": fan_in, "fan_out": fan_out,
            "kaiming_normal_std": gain / math.sqrt(fan_in),
            "xavier_normal_std": math.sqrt(2.0 / (fan_in + fan_out)),
            "kaiming_sample_std": float(w.std()), "n": w.numel()}


def main():
    out = {"torch": torch.__version__, "cases": [case(s) for s in SHAPES]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_fans.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
