#!/usr/bin/python3
"""A gradlab train run repeated in PyTorch: the PyTorch side of TRAINING.md's
"End to end: gradlab train vs PyTorch (issue 14 part 5)".

The run is described by a twin file written by benchmarks/cmd/twin from the
gradlab run's config.json (benchmarks.WriteTwin):

    go run ./benchmarks/cmd/twin -config runs/e2e/purego/config.json -o runs/e2e/twin.safetensors
    /usr/bin/python3 benchmarks/torch_train.py --twin runs/e2e/twin.safetensors --threads 1 --json runs/e2e/torch-1t.json

What is the same as in gradlab:
  - the network (mlp: Linear without bias -> BatchNorm1d (momentum 0.1,
    eps 1e-5) -> activation -> Dropout per hidden layer, then Linear with
    bias; cnn: Conv2d without bias -> BatchNorm2d -> ReLU -> MaxPool2d(2)
    per block, Flatten, Linear -> ReLU -> Dropout per hidden layer, Linear),
    float32, and its initial weights and batch-norm statistics: read from
    the twin file, where gradlab's (in, out) dense weights are transposed to
    PyTorch's (out, in) (convolution filters have PyTorch's layout already);
  - the data: the same MNIST IDX files (the twin names the directory), the
    same scaling (computed in float64, rounded to float32, as gradlab does;
    checked against the twin's check/x), the same limits;
  - the order: the batches of epoch e are order/e[s*B:(s+1)*B], gradlab's
    train.Order, the last partial batch included unless drop_last;
  - the loss (mean softmax cross-entropy), the optimizer (torch.optim.AdamW
    or Adam with the run's lr, betas, eps outside the square root, weight
    decay), the learning rate of every step (train.Schedule.LR, ported
    below: cosine over all steps of the configured epochs, warm-up, step);
  - per epoch: the running mean train loss and accuracy over the epoch's
    steps (Train mode), then test loss and accuracy in eval mode.
What is not: the dropout masks (PyTorch's RNG, seeded with the run's seed,
is not gradlab's), so losses agree in distribution, not bit for bit.
The test evaluation runs under torch.no_grad() in batches of --eval-batch
(default 1000; gradlab evaluates in batches of the training batch size:
eval-mode results do not depend on it).

Timed, per epoch: from the epoch's first batch to the end of its test
evaluation (training + evaluation; gradlab's metrics.csv "seconds" is the
same span). Total = the sum over epochs. The process wall time (interpreter
start, torch import, data loading included) is reported too.

The run happens in a child interpreter whose environment gives PyTorch its
best (torch_env.py: OPENBLAS_CORETYPE from /proc/cpuinfo, ATEN_CPU_CAPABILITY,
OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = torch.set_num_threads = --threads),
set before torch is imported; the settings are printed.

    /usr/bin/python3 benchmarks/torch_train.py --table runs/e2e

prints the table rows of a finished benchmarks/e2e.sh run. Needs PyTorch
(Debian's python3-torch 1.13) and numpy; run from the repository root with
/usr/bin/python3.
"""

import argparse
import csv
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import time

import torch_env

DTYPES = {"F32": "float32", "F64": "float64", "I64": "int64"}


def read_twin(path):
    """The tensors (numpy arrays) and metadata of a safetensors file."""
    import numpy as np
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = memoryview(blob)[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return tensors, meta


def read_idx(path):
    """An IDX file (gzip or raw) as a uint8 numpy array of its shape."""
    import numpy as np
    with open(path, "rb") as f:
        b = f.read()
    if b[:2] == b"\x1f\x8b":
        b = gzip.decompress(b)
    if b[0] != 0 or b[1] != 0 or b[2] != 8:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    dims = b[3]
    shape = struct.unpack(">" + "I" * dims, b[4:4 + 4 * dims])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def idx_file(d, base):
    for name in (base + ".gz", base):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise SystemExit(f"{d}: neither {base}.gz nor {base}")


def scale_lut(scaling):
    """gradlab's mnist.Scaling: each byte's value, in float64, then float32."""
    import numpy as np
    p = np.arange(256, dtype=np.float64)
    if scaling == "unit":
        v = p / 255
    elif scaling == "symmetric":
        v = p / 127.5 - 1
    elif scaling == "standardize":
        v = (p / 255 - 0.1307) / 0.3081
    else:
        raise SystemExit(f"unknown scaling {scaling!r}")
    return v.astype(np.float32)


def schedule_lr(s, base, step, steps_per_epoch, total):
    """train.Schedule.LR."""
    warm = s.get("warmup_steps", 0)
    if warm > 0 and step < warm:
        return base * (step + 1) / warm
    kind = s.get("kind", "")
    if kind == "step":
        every = s.get("step_epochs") or 3
        gamma = s.get("gamma") or 0.1
        return base * gamma ** (step // steps_per_epoch // every)
    if kind == "cosine":
        t, T = step - warm, total - warm
        if T <= 0:
            return base
        lo = s.get("min_lr", 0)
        return lo + (base - lo) * (1 + math.cos(math.pi * t / T)) / 2
    return base


def check_config(cfg):
    """The fields the twin repeats; anything else is refused, not ignored."""
    m, sol = cfg["model"], cfg["solver"]
    mc = m.get("config", {})
    problems = []
    if m["name"] not in ("mlp", "cnn"):
        problems.append(f"model {m['name']!r} (only mlp and cnn)")
    if m["name"] == "mlp" and mc.get("activation") not in ("relu", "tanh", "sigmoid"):
        problems.append(f"activation {mc.get('activation')!r}")
    if m["name"] == "cnn" and mc.get("shift"):
        problems.append(f"cnn shift {mc['shift']} (random shifts are not repeated)")
    if mc.get("dtype") not in ("float32", "float64"):
        problems.append(f"dtype {mc.get('dtype')!r}")
    if cfg["optimizer"] not in ("adamw", "adam"):
        problems.append(f"optimizer {cfg['optimizer']!r} (only adamw and adam)")
    for k, v in sol.items():
        if v and k not in ("LR", "Beta1", "Beta2", "Eps", "DecoupledDecay", "WeightDecay"):
            problems.append(f"solver field {k} = {v}")
    if cfg["optimizer"] == "adam" and sol.get("DecoupledDecay"):
        problems.append("adam with DecoupledDecay")
    if cfg["optimizer"] == "adamw" and sol.get("WeightDecay"):
        problems.append("adamw with coupled WeightDecay")
    if cfg.get("validation") or cfg.get("patience") or cfg.get("eval_train"):
        problems.append("validation, patience or eval_train")
    if cfg["data"]["name"] != "mnist":
        problems.append(f"data {cfg['data']['name']!r}")
    if problems:
        raise SystemExit("torch_train.py does not repeat: " + "; ".join(problems))


def build(cfg, tensors):
    """The network, with the twin's initial weights."""
    import torch
    from torch import nn
    mc = cfg["model"]["config"]
    if cfg["model"]["name"] == "cnn":
        layers, load = build_cnn(mc)
    else:
        layers, load = build_mlp(mc)
    net = nn.Sequential(*layers)
    used = set()
    with torch.no_grad():
        for dst, name, transpose in load:
            if name not in tensors:
                raise SystemExit(f"the twin has no {name}")
            src = torch.from_numpy(tensors[name].copy())
            if transpose:  # gradlab's x·W with W (in, out); PyTorch's x·Wᵀ with W (out, in)
                src = src.t()
            if tuple(src.shape) != tuple(dst.shape):
                raise SystemExit(f"{name}: shape {tuple(src.shape)}, PyTorch wants {tuple(dst.shape)}")
            dst.copy_(src)
            used.add(name)
    left = sorted(k for k in tensors if k.startswith(("param/", "state/")) and k not in used
                  and not k.endswith("/step"))  # dropout step counters: gradlab's mask RNG
    if left:
        raise SystemExit(f"twin tensors not used by the PyTorch network: {left}")
    if mc["dtype"] == "float64":
        net = net.double()
    net.twin_tensors = load  # (tensor, twin name, transposed) of every loaded tensor
    return net


def batch_norm(bn, name):
    """The twin tensors of a batch norm named name."""
    return [(bn.weight, f"param/{name}/gamma", False), (bn.bias, f"param/{name}/beta", False),
            (bn.running_mean, f"state/{name}/running_mean", False),
            (bn.running_var, f"state/{name}/running_var", False)]


def build_cnn(mc):
    """models/cnn.Layers: per block Conv2d (K×K, padding K/2, no bias with
    batch norm) -> BatchNorm2d (momentum 0.1, eps 1e-5) -> ReLU -> MaxPool2d(2);
    Flatten (NCHW order, as gradlab's); per hidden dense layer Linear -> ReLU
    -> Dropout; Linear. The input rows (784 floats) are viewed as (1, 28, 28)."""
    from torch import nn
    c, h, w = mc["input"]
    k = mc["kernel"]
    layers, load = [nn.Unflatten(1, (c, h, w))], []
    for i, ch in enumerate(mc["conv"], 1):
        conv = nn.Conv2d(c, ch, k, padding=k // 2, bias=not mc["batch_norm"])
        layers.append(conv)
        load.append((conv.weight, f"param/conv{i}/w", False))
        if conv.bias is not None:
            load.append((conv.bias, f"param/conv{i}/b", False))
        if mc["batch_norm"]:
            bn = nn.BatchNorm2d(ch, eps=1e-5, momentum=0.1)
            layers.append(bn)
            load += batch_norm(bn, f"bn{i}")
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        c, h, w = ch, h // 2, w // 2
    layers.append(nn.Flatten())
    fan_in = c * h * w
    for i, units in enumerate(mc["dense"], 1):
        fc = nn.Linear(fan_in, units)
        layers += [fc, nn.ReLU()]
        load += [(fc.weight, f"param/fc{i}/w", True), (fc.bias, f"param/fc{i}/b", False)]
        if mc["dropout"] > 0:
            layers.append(nn.Dropout(mc["dropout"]))
        fan_in = units
    out = nn.Linear(fan_in, mc["classes"])
    layers.append(out)
    load += [(out.weight, "param/out/w", True), (out.bias, "param/out/b", False)]
    return layers, load


def build_mlp(mc):
    """models/mlp: per hidden layer Linear (no bias with batch norm) ->
    BatchNorm1d -> activation -> Dropout; Linear."""
    from torch import nn
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[mc["activation"]]
    layers, fan_in, load = [], mc["inputs"], []
    for i, units in enumerate(mc["hidden"], 1):
        fc = nn.Linear(fan_in, units, bias=not mc["batch_norm"])
        layers.append(fc)
        load.append((fc.weight, f"param/fc{i}/w", True))
        if fc.bias is not None:
            load.append((fc.bias, f"param/fc{i}/b", False))
        if mc["batch_norm"]:
            bn = nn.BatchNorm1d(units, eps=1e-5, momentum=0.1)
            layers.append(bn)
            load += batch_norm(bn, f"bn{i}")
        layers.append(act())
        if mc["dropout"] > 0:
            layers.append(nn.Dropout(mc["dropout"]))
        fan_in = units
    out = nn.Linear(fan_in, mc["classes"])
    layers.append(out)
    load += [(out.weight, "param/out/w", True), (out.bias, "param/out/b", False)]
    return layers, load


def train(twin, threads, eval_batch, max_epochs, out_json, foreach):
    t_process = time.perf_counter()
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    tensors, meta = read_twin(twin)
    cfg = json.loads(meta["config"])
    check_config(cfg)
    torch.manual_seed(cfg["seed"])  # dropout masks: PyTorch's own RNG

    # Data: whole tensors in memory, batches gathered by index.
    d = meta["data_dir"]
    lut = scale_lut(cfg["data"].get("config", {}).get("scaling", "unit"))
    n, n_test = int(meta["train_n"]), int(meta["test_n"])
    xtr = read_idx(idx_file(d, "train-images-idx3-ubyte"))[:n]
    ytr = read_idx(idx_file(d, "train-labels-idx1-ubyte"))[:n]
    xte = read_idx(idx_file(d, "t10k-images-idx3-ubyte"))[:n_test]
    yte = read_idx(idx_file(d, "t10k-labels-idx1-ubyte"))[:n_test]
    xtr = lut[xtr.reshape(len(xtr), -1)]
    xte = lut[xte.reshape(len(xte), -1)]
    k = len(tensors["check/x"])
    if not np.array_equal(xtr[:k], tensors["check/x"]) or not np.array_equal(ytr[:k], tensors["check/y"]):
        raise SystemExit("the scaled data differs from gradlab's (check/x, check/y)")
    dtype = torch.float64 if cfg["model"]["config"]["dtype"] == "float64" else torch.float32
    xtr, xte = torch.from_numpy(xtr).to(dtype), torch.from_numpy(xte).to(dtype)
    ytr, yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))

    net = build(cfg, tensors).train()
    sol = cfg["solver"]
    base = sol["LR"] or (0.001 if cfg["optimizer"] in ("adamw", "adam") else None)
    betas = (sol.get("Beta1") or 0.9, sol.get("Beta2") or 0.999)
    eps = sol.get("Eps") or 1e-8  # outside the square root, as gradlab's Adam
    if cfg["optimizer"] == "adamw":
        wd = sol.get("DecoupledDecay") or 0.01
        opt = torch.optim.AdamW(net.parameters(), lr=base, betas=betas, eps=eps, weight_decay=wd, foreach=foreach)
    else:
        wd = sol.get("WeightDecay") or 0
        opt = torch.optim.Adam(net.parameters(), lr=base, betas=betas, eps=eps, weight_decay=wd, foreach=foreach)

    B, epochs = cfg["batch"], cfg["epochs"]
    spe = n // B if cfg["drop_last"] else (n + B - 1) // B
    total = spe * epochs
    orders = [torch.from_numpy(tensors[f"order/{e}"].copy()) for e in range(1, epochs + 1)]
    run_epochs = min(epochs, max_epochs) if max_epochs else epochs
    print(f"torch {threads} thread(s): {n} train / {n_test} test images, {cfg['optimizer']} lr {base} "
          f"betas {betas} eps {eps} weight decay {wd}, schedule {cfg['schedule'].get('kind') or 'constant'}, "
          f"{run_epochs} of {epochs} epochs of {spe} steps (batch {B}), eval batch {eval_batch}", flush=True)

    history, step = [], 0
    for e in range(1, run_epochs + 1):
        t0 = time.perf_counter()
        perm = orders[e - 1]
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        seen = 0
        for s in range(spe):
            idx = perm[s * B:min((s + 1) * B, n)]
            xb, yb = xtr.index_select(0, idx), ytr.index_select(0, idx)
            lr = schedule_lr(cfg["schedule"], base, step, spe, total)
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == yb).sum()
            seen += len(idx)
        t1 = time.perf_counter()
        net.eval()
        test_loss, test_correct = 0.0, 0
        with torch.no_grad():
            for lo in range(0, n_test, eval_batch):
                xb, yb = xte[lo:lo + eval_batch], yte[lo:lo + eval_batch]
                logits = net(xb)
                test_loss += F.cross_entropy(logits, yb, reduction="sum").item()
                test_correct += (logits.argmax(1) == yb).sum().item()
        net.train()
        t2 = time.perf_counter()
        row = {"epoch": e, "train_loss": loss_sum.item() / seen, "train_acc": correct.item() / seen,
               "test_loss": test_loss / n_test, "test_acc": test_correct / n_test, "lr": lr,
               "train_s": t1 - t0, "eval_s": t2 - t1, "seconds": t2 - t0}
        history.append(row)
        print(f"epoch {e}/{epochs}  train loss {row['train_loss']:.4f} acc {100 * row['train_acc']:.2f}%  "
              f"test loss {row['test_loss']:.4f} acc {100 * row['test_acc']:.2f}%  lr {lr:.3g}  "
              f"{row['seconds']:.1f}s (train {row['train_s']:.1f}s, eval {row['eval_s']:.2f}s)", flush=True)
    res = {"impl": f"PyTorch {threads} thread(s)", "threads": threads, "torch": torch.__version__,
           "env": torch_env.describe(os.environ), "eval_batch": eval_batch, "epochs": history,
           "total_s": sum(r["seconds"] for r in history), "process_s": time.perf_counter() - t_process}
    print(f"total {res['total_s']:.1f}s over {len(history)} epochs (training + test evaluation), "
          f"process {res['process_s']:.1f}s", flush=True)
    if out_json:
        with open(out_json, "w") as f:
            json.dump(res, f, indent=1)


def wall(d):
    """The wall time of a run of e2e.sh's timed: DIR/end − DIR/start, or None."""
    try:
        with open(os.path.join(d, "start")) as f1, open(os.path.join(d, "end")) as f2:
            return float(f2.read()) - float(f1.read())
    except (OSError, ValueError):
        return None


def table(d):
    """The table rows of an e2e.sh run in d (markdown)."""
    rows = [("gradlab pure Go", "purego"), ("gradlab -tags openblas", "openblas"),
            ("PyTorch 1 thread", "torch-1t"), ("PyTorch 2 threads", "torch-2t")]
    print("| implementation | total wall time (s) | seconds/epoch | final test accuracy | "
          "best test accuracy | process wall time (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, name in rows:
        p = os.path.join(d, name)
        try:
            if name.startswith("torch"):
                with open(p + ".json") as f:
                    epochs = json.load(f)["epochs"]
            else:
                with open(os.path.join(p, "metrics.csv")) as f:
                    epochs = [{"seconds": float(r["seconds"]), "test_acc": float(r["test_acc"])}
                              for r in csv.DictReader(f)]
        except OSError as err:
            print(f"| {label} | (missing: {err}) | | | | |")
            continue
        tot = sum(e["seconds"] for e in epochs)
        accs = [e["test_acc"] for e in epochs]
        w = wall(p)
        proc = f"{w:.1f}" if w is not None else "?"
        print(f"| {label} | {tot:.1f} ({len(epochs)} epochs) | {tot / len(epochs):.2f} | {100 * accs[-1]:.2f}% | "
              f"{100 * max(accs):.2f}% | {proc} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--twin", help="twin file of the gradlab run (benchmarks/cmd/twin)")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (BLAS and OpenMP too)")
    ap.add_argument("--eval-batch", type=int, default=1000, help="test evaluation batch size")
    ap.add_argument("--epochs", type=int, default=0,
                    help="stop after N epochs (short checks; the schedule stays the twin's); 0 = all")
    ap.add_argument("--foreach", action="store_true", help="the optimizer's multi-tensor (foreach) implementation")
    ap.add_argument("--json", help="write the per-epoch results here")
    ap.add_argument("--table", metavar="DIR", help="print the table rows of a benchmarks/e2e.sh run in DIR")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.table:
        table(args.table)
        return 0
    if not args.twin:
        ap.error("--twin is required")
    if args.child:
        train(args.twin, args.threads, args.eval_batch, args.epochs, args.json, args.foreach)
        return 0
    env = torch_env.child_env(args.threads)
    info = subprocess.run([sys.executable, "-c", "import torch, re; m = re.search(r'BLAS_INFO=(\\w+)', "
                           "torch.__config__.show()); print(torch.__version__, m.group(1) if m else 'unknown')"],
                          env=env, check=True, capture_output=True, text=True).stdout.split()
    print(f"torch {info[0]}, BLAS {info[1]}; torch {args.threads} thread(s) runs with {torch_env.describe(env)}",
          flush=True)
    cmd = [sys.executable, __file__, "--child", "--twin", args.twin, "--threads", str(args.threads),
           "--eval-batch", str(args.eval_batch), "--epochs", str(args.epochs)]
    if args.json:
        cmd += ["--json", args.json]
    if args.foreach:
        cmd.append("--foreach")
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
