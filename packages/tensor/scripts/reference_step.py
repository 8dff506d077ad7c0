#!/usr/bin/python3
"""The reference transformer training step of bench/run.mjs, in PyTorch, timed.

Decoder-only, d_model 256, 4 layers, 4 heads, SwiGLU 1024, vocab 512, sequence 96, batch 16,
pre-norm RMSNorm, rotary causal attention, AdamW. Prints one JSON line:
{"ms_per_step": ..., "first_step_ms": ..., "loss": ..., "threads": ..., "torch": ...}
Run: /usr/bin/python3 packages/tensor/scripts/reference_step.py [steps]
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, D, LAYERS, HEADS, FFN, SEQ, BATCH = 512, 256, 4, 4, 1024, 96, 16
HD = D // HEADS


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm = RMSNorm(D)
        self.q = nn.Linear(D, D, bias=False)
        self.k = nn.Linear(D, D, bias=False)
        self.v = nn.Linear(D, D, bias=False)
        self.o = nn.Linear(D, D, bias=False)
        self.mlp_norm = RMSNorm(D)
        self.gate = nn.Linear(D, FFN, bias=False)
        self.up = nn.Linear(D, FFN, bias=False)
        self.down = nn.Linear(FFN, D, bias=False)

    def forward(self, x, cos, sin, mask):
        B, L, _ = x.shape
        h = self.attn_norm(x)
        q = rope(self.q(h).view(B, L, HEADS, HD).transpose(1, 2), cos, sin)
        k = rope(self.k(h).view(B, L, HEADS, HD).transpose(1, 2), cos, sin)
        v = self.v(h).view(B, L, HEADS, HD).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q @ k.transpose(-1, -2)) / math.sqrt(HD) + mask
            y = torch.softmax(s, -1) @ v
        x = x + self.o(y.transpose(1, 2).reshape(B, L, D))
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        self.layers = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.norm = RMSNorm(D)
        self.head = nn.Linear(D, V, bias=False)
        inv = 10000.0 ** (-torch.arange(0, HD, 2, dtype=torch.float32) / HD)
        ang = torch.arange(SEQ, dtype=torch.float32)[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos())
        self.register_buffer("sin", ang.sin())
        self.register_buffer("mask", torch.full((SEQ, SEQ), float("-inf")).triu(1))

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return self.head(self.norm(x))


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.manual_seed(0)
    model = LM()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    ids = torch.randint(0, V, (BATCH, SEQ))
    targets = torch.randint(0, V, (BATCH, SEQ))

    def step():
        t0 = time.perf_counter()
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        value = loss.item()
        return (time.perf_counter() - t0) * 1000, value

    first, loss = step()
    times = []
    for _ in range(steps):
        ms, loss = step()
        times.append(ms)
    times.sort()
    print(json.dumps({"ms_per_step": times[len(times) // 2], "first_step_ms": first, "loss": loss,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
