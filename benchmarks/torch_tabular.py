#!/usr/bin/python3
"""gradlab's tabular model against a linear baseline and a PyTorch twin, on
scikit-learn's classic data sets (TABULAR.md, "Test metrics").

For each data set and seed the three models see the same rows: the seeded
train/test split of `gradlab train -seed S -test-frac 0.2`, exported by
benchmarks/cmd/tabsplit (datasets/table.Split and the encoder fitted on the
training rows, run from Go: nothing is reimplemented here).

  gradlab   `gradlab train -data FILE ... -seed S` (built from this
            repository); its final test metrics (metrics.csv, last epoch).
  linear    regression: ordinary least squares with an intercept (numpy
            lstsq, float64). classification: multinomial logistic
            regression with an L2 penalty of 1/2·|W|² on the summed
            cross-entropy (scikit-learn's LogisticRegression defaults: C = 1,
            lbfgs) on the standardized features, fitted to convergence with
            torch's L-BFGS in float64.
  torch     the PyTorch twin of gradlab's MLP: standardization with the
            training rows' mean and population standard deviation (0 counts
            as 1), Linear -> ReLU per hidden layer, then Linear (classes
            logits; a regressor's one output is rescaled by the training
            targets' standard deviation and mean, as gradlab's "unscale"
            layer), He-normal weights (fan_in, gain sqrt 2) and zero biases,
            float32; loss mean cross-entropy or mean squared error in the
            target's units; AdamW (betas 0.9/0.999, eps 1e-8, decoupled
            decay lr·wd) with gradlab's cosine schedule per step over all
            the run's steps; a fresh random order every epoch (torch's RNG
            seeded by S; not gradlab's order nor its initial weights, so
            the two agree in distribution, not bit for bit), the last partial
            batch used. The hidden widths, dropout, epochs, batch, lr and
            weight decay are read from the gradlab run's config.json, so
            both always train the same configuration.

Metrics: regression RMSE and R² (1 − SSres/SStot with the test rows' mean,
gradlab's r2); classification accuracy. Each cell is the mean ± sample
standard deviation over the seeds.

    GRADLAB_SKLEARN_DIR=/tmp/skl/x/usr/lib/python3/dist-packages/sklearn/datasets/data \\
        /usr/bin/python3 benchmarks/torch_tabular.py --seeds 1-10

Extra arguments after -- go to every `gradlab train` (and so, through its
config.json, to the twin), e.g. `-- -epochs 20`. PyTorch runs on one thread
with torch_env.py's settings (the script re-executes itself in that
environment before importing torch). Run from the repository root with
/usr/bin/python3 (Debian's python3-torch 1.13 and numpy).
"""

import argparse
import csv
import gzip
import json
import math
import os
import statistics
import subprocess
import sys

import torch_env

# name: (file in the sklearn data directory, gradlab train's table flags)
DATASETS = {
    "diabetes": ("diabetes.txt", ["-no-header", "-target", "-1"]),
    "boston": ("boston_house_prices.csv", ["-skip", "1", "-target", "MEDV"]),
    "iris": ("iris.csv", ["-skip", "1", "-no-header", "-target", "-1"]),
    "wine": ("wine_data.csv", ["-skip", "1", "-no-header", "-target", "-1"]),
    "breast_cancer": ("breast_cancer.csv", ["-skip", "1", "-no-header", "-target", "-1"]),
}


def data_file(name, sklearn_dir, work):
    """The file of a data set; diabetes is made from its two gzipped files
    (10 space-separated features, then the target), as
    paste -d' ' <(zcat diabetes_data_raw.csv.gz) <(zcat diabetes_target.csv.gz)."""
    if name != "diabetes":
        return os.path.join(sklearn_dir, DATASETS[name][0])
    path = os.path.join(work, "diabetes.txt")
    with gzip.open(os.path.join(sklearn_dir, "diabetes_data_raw.csv.gz"), "rt") as fx, \
            gzip.open(os.path.join(sklearn_dir, "diabetes_target.csv.gz"), "rt") as fy:
        xs = [line.strip() for line in fx if line.strip()]
        ys = [line.strip() for line in fy if line.strip()]
    assert len(xs) == len(ys), (len(xs), len(ys))
    with open(path, "w") as f:
        for x, y in zip(xs, ys):
            f.write(f"{x} {y}\n")
    return path


def gradlab_run(gradlab, file, flags, seed, out, extra):
    cmd = [gradlab, "train", "-data", file, *flags, "-seed", str(seed), "-out", out, *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    return rows, cfg


def export_split(tabsplit, file, flags, seed, out):
    subprocess.run([tabsplit, "-data", file, *flags, "-seed", str(seed), "-o", out], check=True)
    with open(out) as f:
        return json.load(f)


def reg_metrics(pred, y):
    import numpy as np
    pred, y = np.asarray(pred, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ss = float(((y - pred) ** 2).sum())
    tot = float(((y - y.mean()) ** 2).sum())
    return {"rmse": math.sqrt(ss / len(y)), "r2": 1 - ss / tot}


def standardize(xtr, xte):
    import numpy as np
    mean = xtr.mean(axis=0)
    std = xtr.std(axis=0)
    std[std == 0] = 1
    return (xtr - mean) / std, (xte - mean) / std


def linear(split):
    """The linear baseline's test metrics."""
    import numpy as np
    import torch
    xtr = np.asarray(split["x_train"], dtype=np.float64)
    xte = np.asarray(split["x_test"], dtype=np.float64)
    ytr, yte = np.asarray(split["y_train"]), np.asarray(split["y_test"])
    if split["task"] == "regression":
        a = np.hstack([xtr, np.ones((len(xtr), 1))])
        coef, *_ = np.linalg.lstsq(a, ytr, rcond=None)
        pred = np.hstack([xte, np.ones((len(xte), 1))]) @ coef
        return reg_metrics(pred, yte)
    xs, xt = standardize(xtr, xte)
    k = len(split["classes"])
    x = torch.tensor(xs)
    y = torch.tensor(ytr, dtype=torch.long)
    w = torch.zeros(x.shape[1], k, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=1000, tolerance_grad=1e-10, tolerance_change=1e-12,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y, reduction="sum") + 0.5 * (w * w).sum()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    with torch.no_grad():
        pred = (torch.tensor(xt) @ w + b).argmax(1).numpy()
    return {"acc": float((pred == yte).mean())}


def cosine_lr(base, step, total):
    """train.Schedule.LR for kind cosine, no warm-up, min_lr 0."""
    if total <= 0:
        return base
    return base * (1 + math.cos(math.pi * step / total)) / 2


def twin(split, cfg, seed):
    """The PyTorch twin's test metrics, trained as the gradlab run cfg."""
    import numpy as np
    import torch
    from torch import nn
    m, sc = cfg["model"]["config"], cfg["solver"]
    if cfg["optimizer"] != "adamw" or cfg["schedule"]["kind"] != "cosine" or cfg["schedule"].get("warmup_steps"):
        raise SystemExit(f"twin: only adamw with a cosine schedule, no warm-up, is repeated, not {cfg['optimizer']} "
                         f"{cfg['schedule']}")
    if m.get("batch_norm") or cfg.get("validation"):
        raise SystemExit("twin: batch norm and a validation split are not repeated")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xtr = np.asarray(split["x_train"], dtype=np.float32)
    xte = np.asarray(split["x_test"], dtype=np.float32)
    mean = xtr.astype(np.float64).mean(axis=0)
    std = xtr.astype(np.float64).std(axis=0)
    std[std == 0] = 1
    xtr = torch.tensor(((xtr - mean) / std).astype(np.float32))
    xte = torch.tensor(((xte - mean) / std).astype(np.float32))
    reg = split["task"] == "regression"
    if reg:
        ytr = torch.tensor(split["y_train"], dtype=torch.float32)
        ym, ys = float(np.mean(split["y_train"])), float(np.std(split["y_train"])) or 1.0
    else:
        ytr = torch.tensor(split["y_train"], dtype=torch.long)
    layers, fan_in = [], xtr.shape[1]
    for units in m["hidden"]:
        layers += [nn.Linear(fan_in, units), nn.ReLU()]
        if m.get("dropout"):
            layers.append(nn.Dropout(m["dropout"]))
        fan_in = units
    layers.append(nn.Linear(fan_in, 1 if reg else len(split["classes"])))
    net = nn.Sequential(*layers)
    for mod in net.modules():
        if isinstance(mod, nn.Linear):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.zeros_(mod.bias)

    def forward(x):
        out = net(x)
        return out[:, 0] * ys + ym if reg else out

    lr, wd = sc["LR"], sc["DecoupledDecay"]
    opt = torch.optim.AdamW(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    loss_fn = nn.MSELoss() if reg else nn.CrossEntropyLoss()
    n, batch, epochs = len(xtr), cfg["batch"], cfg["epochs"]
    spe = (n + batch - 1) // batch
    step = 0
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=gen)
        for s in range(spe):
            idx = perm[s * batch:(s + 1) * batch]
            for g in opt.param_groups:
                g["lr"] = cosine_lr(lr, step, spe * epochs)
            opt.zero_grad()
            loss_fn(forward(xtr[idx]), ytr[idx]).backward()
            opt.step()
            step += 1
    net.eval()
    with torch.no_grad():
        out = forward(xte)
    if reg:
        return reg_metrics(out.numpy(), split["y_test"])
    return {"acc": float((out.argmax(1).numpy() == np.asarray(split["y_test"])).mean())}


def setup(work):
    """$GRADLAB_SKLEARN_DIR, and gradlab and tabsplit built into work."""
    sk = os.environ.get("GRADLAB_SKLEARN_DIR")
    if not sk:
        raise SystemExit("set GRADLAB_SKLEARN_DIR to scikit-learn's datasets/data directory")
    os.makedirs(work, exist_ok=True)
    gradlab, tabsplit = os.path.join(work, "gradlab"), os.path.join(work, "tabsplit")
    subprocess.run(["go", "build", "-o", gradlab, "./cmd/gradlab"], check=True)
    subprocess.run(["go", "build", "-o", tabsplit, "./benchmarks/cmd/tabsplit"], check=True)
    return sk, gradlab, tabsplit


def gradlab_metrics(rows, task):
    last = rows[-1]
    if task == "regression":
        return {"rmse": float(last["test_rmse"]), "r2": float(last["test_r2"])}
    return {"acc": float(last["test_acc"])}


def seeds_of(s):
    if "-" in s:
        lo, hi = s.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(v) for v in s.split(",")]


def ms(vals, pct=False):
    f = 100 if pct else 1
    mean = statistics.mean(vals) * f
    sd = statistics.stdev(vals) * f if len(vals) > 1 else 0.0
    if pct:
        return f"{mean:.2f}% ± {sd:.2f}"
    return f"{mean:.3f} ± {sd:.3f}" if abs(mean) < 10 else f"{mean:.2f} ± {sd:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1-10", help="seeds: a range lo-hi or a comma-separated list")
    ap.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated, of " + ", ".join(DATASETS))
    ap.add_argument("--work", default="/tmp/gradlab-tabular", help="directory for the runs, splits and binaries")
    ap.add_argument("--json", help="also write every per-seed result to this file")
    ap.add_argument("extra", nargs="*", help="after --: more gradlab train flags")
    args = ap.parse_args()
    sk, gradlab, tabsplit = setup(args.work)
    import torch
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {torch_env.describe(os.environ)}")
    print(f"gradlab train flags: {' '.join(args.extra) or '(defaults)'}; seeds {args.seeds}")
    seeds = seeds_of(args.seeds)
    results = {}
    for name in args.datasets.split(","):
        file = data_file(name, sk, args.work)
        flags = DATASETS[name][1]
        per = {"gradlab": [], "linear": [], "torch": []}
        for s in seeds:
            rows, cfg = gradlab_run(gradlab, file, flags, s, os.path.join(args.work, "runs", f"{name}-s{s}"), args.extra)
            split = export_split(tabsplit, file, flags, s, os.path.join(args.work, f"split-{name}-s{s}.json"))
            g, lin, tw = gradlab_metrics(rows, split["task"]), linear(split), twin(split, cfg, s)
            per["gradlab"].append(g)
            per["linear"].append(lin)
            per["torch"].append(tw)
            print(f"{name} seed {s} ({len(split['train_rows'])} train, {len(split['test_rows'])} test rows): "
                  f"gradlab {g}  linear {lin}  torch {tw}", flush=True)
        results[name] = {"task": split["task"], "train": len(split["train_rows"]), "test": len(split["test_rows"]),
                         "config": {k: cfg["model"]["config"][k] for k in ("hidden", "dropout", "batch_norm")} |
                         {"epochs": cfg["epochs"], "batch": cfg["batch"], "lr": cfg["solver"]["LR"],
                          "wd": cfg["solver"]["DecoupledDecay"]}, **per}
    print(f"\n| data set | rows train/test | metric | linear | PyTorch twin | gradlab | gradlab − twin |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        keys = ["rmse", "r2"] if r["task"] == "regression" else ["acc"]
        for k in keys:
            v = {impl: [d[k] for d in r[impl]] for impl in ("linear", "torch", "gradlab")}
            diff = [a - b for a, b in zip(v["gradlab"], v["torch"])]
            pct = k == "acc"
            label = {"rmse": "RMSE ↓", "r2": "R² ↑", "acc": "accuracy ↑"}[k]
            print(f"| {name} | {r['train']}/{r['test']} | {label} | {ms(v['linear'], pct)} | {ms(v['torch'], pct)} "
                  f"| {ms(v['gradlab'], pct)} | {ms(diff, pct)} |")
    print(f"\nsettings: {json.dumps(next(iter(results.values()))['config'])}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    if os.environ.get("GRADLAB_TORCH_ENV") != "1":
        env = torch_env.child_env(1)
        env["GRADLAB_TORCH_ENV"] = "1"
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    sys.exit(main())
