#!/usr/bin/python3
"""Golden values for nn's sequence layers from their torch.nn counterparts
(Debian's python3-torch 1.13), given the same weights.

Run from the repository root:  /usr/bin/python3 nn/testdata/gen_seq_layers.py
It writes nn/testdata/seq_layers.json. Each case holds the input x
(batch, T, E), a fixed upstream gradient r of the loss sum(y ⊙ r), the output
y, dx, and every parameter with its gradient under gradlab's name and layout
(a weight "…/w" is the transpose of PyTorch's Linear weight):

  attention    torch.nn.MultiheadAttention(E, heads, batch_first=True) on (x, x, x),
               attn_mask = −inf above the diagonal when causal; in_proj_weight's
               rows are q, k, v
  transformer  torch.nn.TransformerEncoderLayer(E, heads, hidden, dropout=0,
               activation="gelu", batch_first=True, norm_first=True) — the pre-norm
               block x + attn(ln1(x)), x + fc2(gelu(fc1(ln2(x))))

Parameters are drawn at random (not PyTorch's initial values) so that
biases and layer-norm weights are not trivially zero or one. Float64.
"""
import json

import torch

torch.manual_seed(20261204)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def randomize(mod):
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(0.5 * torch.randn(p.shape))


def mask(t, causal):
    return torch.ones(t, t, dtype=torch.bool).triu(1) if causal else None


def mha_params(prefix, mha, e):
    w, b = mha.in_proj_weight, mha.in_proj_bias
    out = {}
    for i, p in enumerate("qkv"):
        out[f"{prefix}/{p}/w"] = (w[i * e:(i + 1) * e].T, None if w.grad is None else w.grad[i * e:(i + 1) * e].T)
        out[f"{prefix}/{p}/b"] = (b[i * e:(i + 1) * e], None if b.grad is None else b.grad[i * e:(i + 1) * e])
    out[f"{prefix}/out/w"] = (mha.out_proj.weight.T, mha.out_proj.weight.grad.T)
    out[f"{prefix}/out/b"] = (mha.out_proj.bias, mha.out_proj.bias.grad)
    return out


def case(kind, n, t, e, heads, hidden, causal):
    if kind == "attention":
        mod = torch.nn.MultiheadAttention(e, heads, batch_first=True)
    else:
        mod = torch.nn.TransformerEncoderLayer(e, heads, hidden, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
    randomize(mod)
    mod.eval()
    x = torch.randn(n, t, e, requires_grad=True)
    if kind == "attention":
        y = mod(x, x, x, attn_mask=mask(t, causal), need_weights=False)[0]
    else:
        y = mod(x, src_mask=mask(t, causal))
    r = torch.randn(y.shape)
    (y * r).sum().backward()
    if kind == "attention":
        params = mha_params("attention1", mod, e)
    else:
        params = mha_params("transformer1/attn", mod.self_attn, e)
        for ours, ln in (("ln1", mod.norm1), ("ln2", mod.norm2)):
            params[f"transformer1/{ours}/weight"] = (ln.weight, ln.weight.grad)
            params[f"transformer1/{ours}/bias"] = (ln.bias, ln.bias.grad)
        for ours, lin in (("fc1", mod.linear1), ("fc2", mod.linear2)):
            params[f"transformer1/{ours}/w"] = (lin.weight.T, lin.weight.grad.T)
            params[f"transformer1/{ours}/b"] = (lin.bias, lin.bias.grad)
    return {"name": f"{kind}/n={n}/t={t}/e={e}/heads={heads}/causal={causal}", "kind": kind,
            "n": n, "t": t, "e": e, "heads": heads, "hidden": hidden, "causal": causal,
            "x": flat(x), "r": flat(r), "y": flat(y), "dx": flat(x.grad),
            "params": {k: {"shape": list(v.shape), "value": flat(v), "grad": flat(g)} for k, (v, g) in params.items()}}


out = {"torch": torch.__version__, "cases": [
    case("attention", 2, 4, 6, 2, 0, False),
    case("attention", 1, 5, 6, 2, 0, True),
    case("attention", 2, 1, 5, 1, 0, False),
    case("transformer", 2, 3, 6, 3, 10, False),
    case("transformer", 1, 4, 6, 2, 7, True),
]}
with open("nn/testdata/seq_layers.json", "w") as f:
    json.dump(out, f)
print("wrote nn/testdata/seq_layers.json:", len(out["cases"]), "cases")
