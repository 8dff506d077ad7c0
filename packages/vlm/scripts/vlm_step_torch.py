"""The default sr2se VLM (0.9 M params) in PyTorch: training step time and tokens/s at batch 16,
~103 tokens a sample (9 image tokens + chat), fp32, AdamW + clip 1.0, and greedy KV-cache generation
tokens/s at batch 1 and 32 (64 new tokens). Same shapes as packages/vlm's default config.
usage: /usr/bin/python3 vlm_step_torch.py [threads]
Prints one human line a figure, then one JSON line with them all (what `npm run bench -w @sr2se/vlm`
reads to print PyTorch beside sr2se)."""
import json
import sys, time, math, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
torch.manual_seed(0)
V, D, L, H, KV, HD, FF = 512, 128, 3, 4, 2, 32, 352
VD, VL, VH, VFF, P, IMG = 96, 2, 4, 256, 16, 48
NP = (IMG // P) ** 2
class RMS(nn.Module):
    def __init__(s, d): super().__init__(); s.w = nn.Parameter(torch.ones(d))
    def forward(s, x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * s.w
def rope(x, pos):
    half = x.shape[-1] // 2
    inv = 1.0 / (10000 ** (torch.arange(half, dtype=torch.float32) / half))
    ang = pos[:, None].float() * inv[None]
    c, s = ang.cos(), ang.sin()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1)
class Attn(nn.Module):
    def __init__(s):
        super().__init__(); s.q = nn.Linear(D, H * HD, bias=False); s.k = nn.Linear(D, KV * HD, bias=False)
        s.v = nn.Linear(D, KV * HD, bias=False); s.o = nn.Linear(H * HD, D, bias=False)
    def forward(s, x, pos, cache=None):
        B, T, _ = x.shape
        q = rope(s.q(x).view(B, T, H, HD).transpose(1, 2), pos); k = rope(s.k(x).view(B, T, KV, HD).transpose(1, 2), pos)
        v = s.v(x).view(B, T, KV, HD).transpose(1, 2)
        if cache is not None:
            if cache.get("k") is not None: k = torch.cat([cache["k"], k], 2); v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
        if T > 1: att = att.masked_fill(torch.ones(T, k.shape[2], dtype=torch.bool).triu(k.shape[2] - T + 1), float("-inf"))
        y = att.softmax(-1) @ v
        return s.o(y.transpose(1, 2).reshape(B, T, H * HD))
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.n1 = RMS(D); s.a = Attn(); s.n2 = RMS(D)
        s.g = nn.Linear(D, FF, bias=False); s.u = nn.Linear(D, FF, bias=False); s.d = nn.Linear(FF, D, bias=False)
    def forward(s, x, pos, cache=None):
        x = x + s.a(s.n1(x), pos, cache); h = s.n2(x); return x + s.d(F.silu(s.g(h)) * s.u(h))
class ViT(nn.Module):
    def __init__(s):
        super().__init__(); s.pe = nn.Conv2d(3, VD, P, P); s.pos = nn.Parameter(torch.zeros(1, NP, VD))
        s.layers = nn.ModuleList([nn.TransformerEncoderLayer(VD, VH, VFF, 0.0, activation="gelu", batch_first=True, norm_first=True) for _ in range(VL)])
        s.norm = nn.LayerNorm(VD)
    def forward(s, px):
        x = s.pe(px).flatten(2).transpose(1, 2) + s.pos
        for l in s.layers: x = l(x)
        return s.norm(x)
class VLM(nn.Module):
    def __init__(s):
        super().__init__(); s.vit = ViT(); s.proj = nn.Sequential(nn.Linear(VD, D), nn.GELU(), nn.Linear(D, D))
        s.emb = nn.Embedding(V, D); s.layers = nn.ModuleList([Block() for _ in range(L)]); s.norm = RMS(D)
    def forward(s, px, ids, caches=None, start=0):
        x = s.emb(ids)
        if px is not None: x = torch.cat([s.proj(s.vit(px)), x], 1)
        pos = torch.arange(start, start + x.shape[1])
        for i, l in enumerate(s.layers): x = l(x, pos, caches[i] if caches else None)
        return s.norm(x) @ s.emb.weight.T
m = VLM(); params = sum(p.numel() for p in m.parameters()); print("params", params)
opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.1)
B, T = 16, 103 - NP
px = torch.randn(B, 3, IMG, IMG); ids = torch.randint(0, V, (B, T))
def step():
    logits = m(px, ids)[:, NP:-1]
    loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1)); opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
for _ in range(3): step()
ts = []
for _ in range(10):
    t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
ms = sorted(ts)[len(ts) // 2] * 1000
print(f"threads {torch.get_num_threads()}: train step {ms:.1f} ms, {B * 103 / ms * 1000:.0f} tokens/s")
result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "params": params, "train_step_ms": ms, "train_tokens_per_s": B * 103 / ms * 1000}
@torch.no_grad()
def gen(b):
    caches = [dict() for _ in range(L)]; p = torch.randn(b, 3, IMG, IMG); prompt = torch.randint(0, V, (b, 12))
    logits = m(p, prompt, caches, 0); nxt = logits[:, -1].argmax(-1, keepdim=True); pos = NP + 12; n = 0
    for _ in range(64):
        logits = m(None, nxt, caches, pos); nxt = logits[:, -1].argmax(-1, keepdim=True); pos += 1; n += b
    return n
for b in (1, 32):
    gen(b); rs = []
    for _ in range(3):
        t = time.perf_counter(); n = gen(b); rs.append(n / (time.perf_counter() - t))
    print(f"threads {torch.get_num_threads()}: generate batch {b}: {sorted(rs)[1]:.0f} tokens/s")
    result[f"generate_batch_{b}_tokens_per_s"] = sorted(rs)[1]
print(json.dumps(result))
