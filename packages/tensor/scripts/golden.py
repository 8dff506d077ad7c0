#!/usr/bin/python3
"""Writes test/fixtures/golden.json: forward outputs and input gradients of every op, from PyTorch.

Run with Debian's python3-torch: /usr/bin/python3 packages/tensor/scripts/golden.py
Each case: inputs (float32/int32/bool, base64 little-endian), an upstream gradient `gout`, the
output and the gradient of every float input, all computed in float64 and stored as float32.
"""
import base64
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
CASES = []


def b64(t, dtype):
    t = t.detach().contiguous()
    if dtype == "int32":
        arr = t.to(torch.int32)
    elif dtype == "bool":
        arr = t.to(torch.uint8)
    else:
        arr = t.to(torch.float32)
    return base64.b64encode(arr.numpy().tobytes()).decode()


def dt(t):
    if t.dtype == torch.bool:
        return "bool"
    if t.dtype in (torch.int32, torch.int64):
        return "int32"
    return "float32"


def case(name, op, inputs, fn, attrs=None, grad=True):
    """inputs: list of torch tensors (float ones get requires_grad)."""
    ins = []
    for x in inputs:
        if x.is_floating_point():
            x = x.to(torch.float64).detach().requires_grad_(grad)
        ins.append(x)
    out = fn(*ins)
    entry = {
        "name": name,
        "op": op,
        "attrs": attrs or {},
        "inputs": [{"shape": list(x.shape), "dtype": dt(x), "data": b64(x, dt(x))} for x in ins],
        "out": {"shape": list(out.shape), "dtype": dt(out), "data": b64(out, dt(out))},
    }
    if grad and out.is_floating_point() and any(x.is_floating_point() for x in ins):
        gout = torch.randn(out.shape, dtype=torch.float64)
        floats = [x for x in ins if x.is_floating_point()]
        grads = torch.autograd.grad(out, floats, gout, allow_unused=True)
        gi = iter(grads)
        entry["gout"] = b64(gout, "float32")
        entry["grads"] = []
        for x in ins:
            if x.is_floating_point():
                g = next(gi)
                entry["grads"].append(b64(g if g is not None else torch.zeros_like(x), "float32"))
            else:
                entry["grads"].append(None)
    CASES.append(entry)


def r(*shape, scale=1.0):
    return torch.randn(list(shape), dtype=torch.float64) * scale


def pos(*shape):
    return torch.rand(list(shape), dtype=torch.float64) * 2 + 0.1


# ---- unary ----
UNARY = {
    "neg": torch.neg, "abs": torch.abs, "exp": torch.exp, "sin": torch.sin, "cos": torch.cos,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu, "softplus": F.softplus,
    "log_sigmoid": F.logsigmoid, "square": torch.square,
}
for name, f in UNARY.items():
    case(f"{name}/[3,5]", name, [r(3, 5) * 2], f)
case("abs/[0,3]", "abs", [r(0, 3)], torch.abs)
case("exp/[] scalar", "exp", [r()], torch.exp)
for name, f in {"log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal}.items():
    case(f"{name}/[4,3]", name, [pos(4, 3)], f)
case("clamp/[4,4]", "clamp", [r(4, 4)], lambda x: torch.clamp(x, -0.5, 0.7), {"min": -0.5, "max": 0.7})
case("pow_scalar/[3,3]", "pow_scalar", [pos(3, 3)], lambda x: x ** 2.5, {"p": 2.5})
case("softplus/large", "softplus", [r(2, 4) * 30], F.softplus)

# ---- binary with broadcasting ----
BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "maximum": torch.maximum, "minimum": torch.minimum}
SHAPES = [([3, 4], [3, 4]), ([2, 3, 4], [4]), ([3, 1], [1, 4]), ([1], [2, 3]), ([2, 1, 3], [4, 1]), ([0, 3], [3])]
for name, f in BINARY.items():
    for sa, sb in SHAPES:
        case(f"{name}/{sa}x{sb}", name, [r(*sa), r(*sb)], f)
for sa, sb in SHAPES[:4]:
    case(f"div/{sa}x{sb}", "div", [r(*sa), pos(*sb)], torch.div)
    case(f"pow/{sa}x{sb}", "pow", [pos(*sa), r(*sb)], torch.pow)
for name, f in {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge}.items():
    a = torch.randint(0, 3, (3, 4)).double()
    b = torch.randint(0, 3, (4,)).double()
    case(f"{name}/[3,4]x[4]", name, [a, b], f, grad=False)
case("where/broadcast", "where", [torch.rand(3, 1) > 0.5, r(3, 4), r(4)], torch.where)
case("masked_fill", "masked_fill", [r(3, 4), torch.rand(3, 4) > 0.5], lambda x, m: x.masked_fill(m, -2.0), {"value": -2.0})
case("scalar_ops", "scalar_ops", [r(3, 4)], lambda x: ((x + 2) * 3 - 1) / 4 - 2 * x + (1 - x))

# ---- reductions ----
x = r(3, 4, 5)
for name in ["sum", "mean", "max", "min"]:
    f = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}[name]
    case(f"{name}/all", name, [x], lambda t, f=f: f(t), {"dim": None, "keepDim": False})
    case(f"{name}/dim1", name, [x], lambda t, f=f: f(t, 1), {"dim": 1, "keepDim": False})
    case(f"{name}/dims[0,2]keep", name, [x], lambda t, f=f: f(t, (0, 2), keepdim=True), {"dim": [0, 2], "keepDim": True})
    case(f"{name}/dim-1", name, [x], lambda t, f=f: f(t, -1), {"dim": -1, "keepDim": False})
case("sum/[0,4]dim0", "sum", [r(0, 4)], lambda t: t.sum(0), {"dim": 0, "keepDim": False})
case("var/dim1", "var", [x], lambda t: t.var(1), {"dim": 1, "keepDim": False})
case("var/all", "var", [x], lambda t: t.var(), {"dim": None, "keepDim": False})
case("logsumexp/dim-1", "logsumexp", [x], lambda t: torch.logsumexp(t, -1), {"dim": -1, "keepDim": False})
case("logsumexp/large", "logsumexp", [r(4, 6) * 1000], lambda t: torch.logsumexp(t, 1, keepdim=True), {"dim": 1, "keepDim": True})
case("argmax/dim1", "argmax", [x], lambda t: t.argmax(1).to(torch.int32), {"dim": 1}, grad=False)
case("argmax/all", "argmax", [x], lambda t: t.argmax().to(torch.int32), {"dim": None}, grad=False)

# ---- softmax ----
for d in [0, 1, -1]:
    case(f"softmax/dim{d}", "softmax", [r(4, 6)], lambda t, d=d: torch.softmax(t, d), {"dim": d})
    case(f"log_softmax/dim{d}", "log_softmax", [r(4, 6)], lambda t, d=d: torch.log_softmax(t, d), {"dim": d})
case("softmax/large", "softmax", [r(3, 7) * 1000], lambda t: torch.softmax(t, -1), {"dim": -1})
case("log_softmax/large", "log_softmax", [r(3, 7) * 1000], lambda t: torch.log_softmax(t, -1), {"dim": -1})
case("softmax/3d dim1", "softmax", [r(2, 5, 3)], lambda t: torch.softmax(t, 1), {"dim": 1})

# ---- matmul ----
case("matmul/2d", "matmul", [r(3, 4), r(4, 5)], torch.matmul)
case("matmul/batched", "matmul", [r(2, 3, 4), r(2, 4, 5)], torch.matmul)
case("matmul/broadcast", "matmul", [r(2, 1, 3, 4), r(3, 4, 2)], torch.matmul)
case("matmul/vec-mat", "matmul", [r(4), r(4, 5)], torch.matmul)
case("matmul/mat-vec", "matmul", [r(3, 4), r(4)], torch.matmul)
case("matmul/transposed", "matmul_tt", [r(4, 3), r(5, 4)], lambda a, b: a.t() @ b.t())
case("matmul/odd", "matmul", [r(7, 33), r(33, 9)], torch.matmul)
case("matmul/k0", "matmul", [r(3, 0), r(0, 2)], torch.matmul)
case("linear", "linear", [r(2, 3, 6), r(5, 6), r(5)], F.linear)

# ---- shape ----
case("reshape", "reshape", [r(2, 6)], lambda t: t.reshape(3, 4) * torch.arange(12.0).reshape(3, 4), {"shape": [3, 4]})
case("transpose", "transpose", [r(2, 3, 4)], lambda t: t.transpose(0, 2), {"d0": 0, "d1": 2})
case("permute", "permute", [r(2, 3, 4)], lambda t: t.permute(1, 2, 0), {"dims": [1, 2, 0]})
case("expand", "expand", [r(3, 1)], lambda t: t.expand(2, 3, 4), {"shape": [2, 3, 4]})
case("squeeze", "squeeze", [r(3, 1, 4, 1)], lambda t: t.squeeze(), {})
case("unsqueeze", "unsqueeze", [r(3, 4)], lambda t: t.unsqueeze(1), {"dim": 1})
case("flatten", "flatten", [r(2, 3, 4)], lambda t: t.flatten(1), {"start": 1})
case("cat", "cat", [r(2, 3), r(4, 3), r(0, 3)], lambda *ts: torch.cat(ts, 0), {"dim": 0})
case("cat/dim1", "cat", [r(2, 3), r(2, 1)], lambda *ts: torch.cat(ts, 1), {"dim": 1})
case("stack", "stack", [r(2, 3), r(2, 3)], lambda *ts: torch.stack(ts, 1), {"dim": 1})
case("split", "split", [r(7, 3)], lambda t: torch.cat([p * (i + 1) for i, p in enumerate(torch.split(t, 3, 0))], 0), {"size": 3, "dim": 0})
case("chunk", "chunk", [r(2, 7)], lambda t: torch.cat([p * (i + 1) for i, p in enumerate(torch.chunk(t, 3, 1))], 1), {"chunks": 3, "dim": 1})
case("narrow", "narrow", [r(4, 6)], lambda t: t.narrow(1, 2, 3), {"dim": 1, "start": 2, "length": 3})

# ---- indexing ----
case("index_select", "index_select", [r(5, 3), torch.tensor([4, 0, 4, 2], dtype=torch.int32)], lambda t, i: t.index_select(0, i.long()), {"dim": 0})
case("index_select/dim1", "index_select", [r(2, 5, 3), torch.tensor([1, 1, 3], dtype=torch.int32)], lambda t, i: t.index_select(1, i.long()), {"dim": 1})
gi = torch.randint(0, 4, (3, 5), dtype=torch.int32)
case("gather", "gather", [r(3, 4), gi], lambda t, i: t.gather(1, i.long()), {"dim": 1})
si = torch.randint(0, 3, (2, 4), dtype=torch.int32)
case("scatter_add", "scatter_add", [r(3, 4), si, r(2, 4)], lambda t, i, s: t.scatter_add(0, i.long(), s), {"dim": 0})
case("tril", "tril", [r(2, 4, 5)], lambda t: t.tril(), {"diagonal": 0})
case("triu/1", "triu", [r(4, 5)], lambda t: t.triu(1), {"diagonal": 1})
case("one_hot", "one_hot", [torch.tensor([[0, 3], [2, 1]], dtype=torch.int32)], lambda i: F.one_hot(i.long(), 5).to(torch.int32), {"classes": 5}, grad=False)
case("embedding", "embedding", [torch.tensor([[1, 4, 1], [0, 2, 3]], dtype=torch.int32), r(6, 4)], lambda i, w: F.embedding(i.long(), w))

# ---- losses and norms ----
logits = r(6, 5)
tgt = torch.tensor([0, 4, 2, -100, 1, 3], dtype=torch.int32)
case("cross_entropy/mean", "cross_entropy", [logits, tgt], lambda x, t: F.cross_entropy(x, t.long()), {})
case("cross_entropy/sum", "cross_entropy", [logits, tgt], lambda x, t: F.cross_entropy(x, t.long(), reduction="sum"), {"reduction": "sum"})
case("cross_entropy/none", "cross_entropy", [logits, tgt], lambda x, t: F.cross_entropy(x, t.long(), reduction="none"), {"reduction": "none"})
case("cross_entropy/smoothing", "cross_entropy", [logits, tgt], lambda x, t: F.cross_entropy(x, t.long(), label_smoothing=0.1), {"labelSmoothing": 0.1})
case("cross_entropy/ignore2", "cross_entropy", [logits, torch.tensor([2, 2, 1, 0, 2, 4], dtype=torch.int32)], lambda x, t: F.cross_entropy(x, t.long(), ignore_index=2), {"ignoreIndex": 2})
case("cross_entropy/large", "cross_entropy", [r(4, 9) * 1000, torch.tensor([1, 8, 0, 3], dtype=torch.int32)], lambda x, t: F.cross_entropy(x, t.long()), {})
case("cross_entropy/3d", "cross_entropy", [r(2, 5, 3), torch.randint(0, 5, (2, 3), dtype=torch.int32)], lambda x, t: F.cross_entropy(x, t.long()), {})
case("layer_norm", "layer_norm", [r(2, 3, 8), r(8), r(8)], lambda x, w, b: F.layer_norm(x, (8,), w, b, 1e-5), {"eps": 1e-5})
case("layer_norm/noaffine", "layer_norm", [r(4, 6) * 3 + 1], lambda x: F.layer_norm(x, (6,), None, None, 1e-5), {"eps": 1e-5})


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


case("rms_norm", "rms_norm", [r(3, 2, 8), r(8)], lambda x, w: rms(x, w, 1e-6), {"eps": 1e-6})


# ---- attention ----
def sdpa(q, k, v, mask=None, causal=False, scale=None):
    D = q.shape[-1]
    scale = scale if scale is not None else 1 / math.sqrt(D)
    hq, hkv = q.shape[1], k.shape[1]
    if hq != hkv:
        k = k.repeat_interleave(hq // hkv, 1)
        v = v.repeat_interleave(hq // hkv, 1)
    s = q @ k.transpose(-1, -2) * scale
    Lq, Lk = q.shape[-2], k.shape[-2]
    if causal:
        keep = torch.ones(Lq, Lk, dtype=torch.bool).tril(Lk - Lq)
        s = s.masked_fill(~keep, float("-inf"))
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


case("sdpa/plain", "sdpa", [r(2, 2, 5, 4), r(2, 2, 6, 4), r(2, 2, 6, 4)], lambda q, k, v: sdpa(q, k, v), {})
case("sdpa/causal", "sdpa", [r(1, 2, 5, 4), r(1, 2, 5, 4), r(1, 2, 5, 4)], lambda q, k, v: sdpa(q, k, v, causal=True), {"isCausal": True})
case("sdpa/causal-kvcache", "sdpa", [r(1, 2, 2, 4), r(1, 2, 6, 4), r(1, 2, 6, 4)], lambda q, k, v: sdpa(q, k, v, causal=True), {"isCausal": True})
case("sdpa/gqa", "sdpa", [r(2, 4, 3, 4), r(2, 2, 5, 4), r(2, 2, 5, 4)], lambda q, k, v: sdpa(q, k, v, causal=False), {})
bm = torch.rand(2, 1, 3, 5) > 0.3
bm[..., 0] = True
case("sdpa/bool-mask", "sdpa", [r(2, 2, 3, 4), r(2, 2, 5, 4), r(2, 2, 5, 4), bm], lambda q, k, v, m: sdpa(q, k, v, mask=m), {})
case("sdpa/additive-mask", "sdpa_add", [r(1, 2, 3, 4), r(1, 2, 4, 4), r(1, 2, 4, 4), r(3, 4)], lambda q, k, v, m: sdpa(q, k, v, mask=m.detach()), {})
case("sdpa/scale", "sdpa", [r(1, 1, 3, 2), r(1, 1, 3, 2), r(1, 1, 3, 2)], lambda q, k, v: sdpa(q, k, v, scale=0.3), {"scale": 0.3})


# ---- rope, patchify ----
def rope_ref(x, positions, base=10000.0):
    D = x.shape[-1]
    inv = base ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
    ang = torch.tensor(positions, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


case("rope", "rope", [r(2, 2, 5, 8)], lambda x: rope_ref(x, [0, 1, 2, 3, 4]), {"positions": [0, 1, 2, 3, 4]})
case("rope/offset", "rope", [r(1, 3, 2, 6)], lambda x: rope_ref(x, [7, 9]), {"positions": [7, 9]})
def rope_batched(x, rows, base=10000.0):
    return torch.cat([rope_ref(x[b : b + 1], rows[b], base) for b in range(len(rows))], 0)


case("rope/per-batch", "rope", [r(2, 2, 3, 4)], lambda x: rope_batched(x, [[0, 1, 2], [5, 6, 7]]), {"positions": [[0, 1, 2], [5, 6, 7]]})
case("patchify", "patchify", [r(2, 3, 4, 6)], lambda x: F.unfold(x, kernel_size=2, stride=2).transpose(1, 2), {"p": 2})

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "golden.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/golden.py", "torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"wrote {len(CASES)} cases to {out} ({os.path.getsize(out)} bytes)", file=sys.stderr)
