#!/usr/bin/python3
"""One training step of torch_train.py's network against gradlab's, weight by
weight: the check that the PyTorch twin is the same computation (without
dropout, whose masks cannot agree).

    d=$(mktemp -d)
    go run ./cmd/gradlab train -dropout 0 -epochs 1 -train-limit 64 -test-limit 100 -out $d
    go run ./benchmarks/cmd/twin -config $d/config.json -o $d/twin.safetensors
    /usr/bin/python3 benchmarks/torch_train_check.py $d/twin.safetensors $d/checkpoint.safetensors

The gradlab run is a single step (as many training images as the batch, one
epoch), so its checkpoint holds the weights after that step. The script
builds the twin's network from the same initial weights, takes one step on the
same batch with the same optimizer and learning rate, and prints, per tensor,
the largest difference to gradlab's weights and batch-norm statistics, and
the step loss of both. Under batch norm, a first-layer weight whose input
pixel is (nearly) constant over the batch has a gradient that is rounding
noise (batch norm removes the batch mean), and Adam's first step turns any
|g| >> eps into ±lr: those elements differ by up to lr; the script reports
them apart (|grad| <= 1e-6).
"""

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

import torch_train as tt


def main(twin_path, ckpt_path):
    torch.set_num_threads(1)
    tw, meta = tt.read_twin(twin_path)
    ck, ck_meta = tt.read_twin(ckpt_path)
    cfg = json.loads(meta["config"])
    tt.check_config(cfg)
    n, B = int(meta["train_n"]), cfg["batch"]
    if n > B or cfg["epochs"] != 1:
        raise SystemExit(f"the gradlab run must be one step: train_n {n} ≤ batch {B}, 1 epoch")
    if cfg["model"]["config"]["dropout"] > 0:
        raise SystemExit("run gradlab with -dropout 0: dropout masks cannot agree")
    net = tt.build(cfg, tw).train()
    d = meta["data_dir"]
    lut = tt.scale_lut(cfg["data"].get("config", {}).get("scaling", "unit"))
    x = lut[tt.read_idx(tt.idx_file(d, "train-images-idx3-ubyte"))[:n].reshape(n, -1)]
    y = tt.read_idx(tt.idx_file(d, "train-labels-idx1-ubyte"))[:n].astype(np.int64)
    idx = tw["order/1"]
    xb, yb = torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
    sol = cfg["solver"]
    lr = tt.schedule_lr(cfg["schedule"], sol["LR"], 0, 1, 1)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, betas=(sol["Beta1"] or 0.9, sol["Beta2"] or 0.999),
                            eps=sol["Eps"] or 1e-8, weight_decay=sol["DecoupledDecay"] or 0.01)
    loss = F.cross_entropy(net(xb), yb)
    loss.backward()
    opt.step()
    hist = json.loads(ck_meta["progress"])["history"][0]
    print(f"step loss: PyTorch {loss.item()!r}, gradlab {hist[1]!r}")

    # Every tensor the twin loaded (mlp and cnn), in the network's order.
    for pairs in [net.twin_tensors]:
        for t, name, transpose in pairs:
            got = t.detach().numpy()
            want = ck[name].T if transpose else ck[name]
            diff = np.abs(got - want)
            line = f"{name:26s} max |PyTorch − gradlab| {diff.max():.3g}"
            if t.grad is not None:
                g = np.abs(t.grad.numpy())
                noise = g <= 1e-6
                if noise.any():
                    line += (f"; |grad| > 1e-6: {diff[~noise].max():.3g}, "
                             f"|grad| ≤ 1e-6 ({noise.sum()} of {g.size}): {diff[noise].max():.3g}")
            print(line)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
