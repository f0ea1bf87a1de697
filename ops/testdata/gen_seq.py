#!/usr/bin/python3
"""Golden values for the sequence ops (ops.LSTM, GRU, Embedding, LayerNorm,
GELU, Attention) from PyTorch (Debian's python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 ops/testdata/gen_seq.py
It writes ops/testdata/seq.json. For each case: the inputs, fixed upstream
gradients r_k of the loss Σ_k sum(out_k ⊙ r_k), the outputs and the
gradients of every float input. LSTM and GRU are torch.nn.LSTM / torch.nn.GRU
(batch_first=True, one layer) with their weights set to the case's
weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0; their outputs are
(y, h_n, c_n) and (y, h_n). Attention is softmax(q·kᵀ/√Dh + mask)·v with
−inf above the diagonal for causal cases (torch 1.13 has no
scaled_dot_product_attention). Everything is float64.
"""
import json
import math

import torch
import torch.nn.functional as F

torch.manual_seed(20261203)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def leaf(*shape, std=1.0):
    return (std * torch.randn(*shape)).requires_grad_(True)


def backward(outs):
    rs = [torch.randn(o.shape) for o in outs]
    sum((o * r).sum() for o, r in zip(outs, rs)).backward()
    return rs


def rnn_case(kind, n, t, i, h):
    gates = 4 if kind == "lstm" else 3
    mod = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(i, h, batch_first=True)
    x, h0 = leaf(n, t, i), leaf(n, h, std=0.5)
    c0 = leaf(n, h, std=0.5)
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(0.4 * torch.randn(p.shape))
    if kind == "lstm":
        y, (hn, cn) = mod(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
        outs = [y, hn[0], cn[0]]
    else:
        y, hn = mod(x, h0.unsqueeze(0))
        outs = [y, hn[0]]
    rs = backward(outs)
    assert mod.weight_ih_l0.shape == (gates * h, i)
    c = {"name": f"{kind}/n={n}/t={t}/i={i}/h={h}", "kind": kind, "n": n, "t": t, "i": i, "h": h,
         "x": flat(x), "h0": flat(h0),
         "w_ih": flat(mod.weight_ih_l0), "w_hh": flat(mod.weight_hh_l0),
         "b_ih": flat(mod.bias_ih_l0), "b_hh": flat(mod.bias_hh_l0),
         "r": [flat(r) for r in rs], "out": [flat(o) for o in outs],
         "dx": flat(x.grad), "dh0": flat(h0.grad),
         "dw_ih": flat(mod.weight_ih_l0.grad), "dw_hh": flat(mod.weight_hh_l0.grad),
         "db_ih": flat(mod.bias_ih_l0.grad), "db_hh": flat(mod.bias_hh_l0.grad)}
    if kind == "lstm":
        c["c0"], c["dc0"] = flat(c0), flat(c0.grad)
    return c


def layernorm_case(shape, eps):
    d = shape[-1]
    x, g, b = leaf(*shape, std=1.5), leaf(d), leaf(d)
    y = F.layer_norm(x, (d,), g, b, eps)
    rs = backward([y])
    return {"name": f"shape={list(shape)}/eps={eps}", "shape": list(shape), "eps": eps,
            "x": flat(x), "gamma": flat(g), "beta": flat(b), "r": flat(rs[0]), "y": flat(y),
            "dx": flat(x.grad), "dgamma": flat(g.grad), "dbeta": flat(b.grad)}


def gelu_case(shape):
    x = leaf(*shape, std=2.0)
    y = F.gelu(x)
    rs = backward([y])
    return {"name": f"shape={list(shape)}", "shape": list(shape), "x": flat(x), "r": flat(rs[0]),
            "y": flat(y), "dx": flat(x.grad)}


def embedding_case(ids_shape, v, d):
    ids = torch.randint(0, v, ids_shape)
    ids.view(-1)[0] = ids.view(-1)[-1]  # at least one repeated id
    table = leaf(v, d)
    y = F.embedding(ids, table)
    rs = backward([y])
    return {"name": f"ids={list(ids_shape)}/v={v}/d={d}", "ids_shape": list(ids_shape), "v": v, "d": d,
            "ids": [int(i) for i in ids.reshape(-1).tolist()], "table": flat(table),
            "r": flat(rs[0]), "y": flat(y), "dtable": flat(table.grad)}


def attention_case(n, heads, t, dh, causal):
    q, k, v = leaf(n, heads, t, dh), leaf(n, heads, t, dh), leaf(n, heads, t, dh)
    s = q @ k.transpose(-1, -2) / math.sqrt(dh)
    if causal:
        s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
    y = torch.softmax(s, dim=-1) @ v
    rs = backward([y])
    return {"name": f"n={n}/heads={heads}/t={t}/dh={dh}/causal={causal}", "shape": [n, heads, t, dh],
            "causal": causal, "q": flat(q), "k": flat(k), "v": flat(v), "r": flat(rs[0]), "y": flat(y),
            "dq": flat(q.grad), "dk": flat(k.grad), "dv": flat(v.grad)}


out = {
    "torch": torch.__version__,
    "rnn": [rnn_case(kind, *s) for kind in ("lstm", "gru")
            for s in [(1, 1, 3, 2), (2, 5, 3, 4), (3, 4, 6, 5), (1, 7, 2, 3)]],
    "layernorm": [layernorm_case(s, e) for s, e in [((3, 5), 1e-5), ((2, 3, 7), 1e-3), ((4, 1), 1e-5), ((1, 1, 9), 1e-5)]],
    "gelu": [gelu_case(s) for s in [(7,), (3, 2, 5)]],
    "embedding": [embedding_case(*c) for c in [((6,), 4, 3), ((2, 5), 7, 5), ((1, 1), 1, 2)]],
    "attention": [attention_case(*c, causal) for c in [(1, 1, 1, 3), (1, 1, 4, 3), (2, 3, 5, 3), (2, 2, 6, 5)]
                  for causal in (False, True)],
}
with open("ops/testdata/seq.json", "w") as f:
    json.dump(out, f)
print("wrote ops/testdata/seq.json:", {k: len(v) for k, v in out.items() if isinstance(v, list)})
