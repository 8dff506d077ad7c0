"""The reference transformer training step in PyTorch, timed: the yardstick of the fast CPU backend.

Decoder-only, pre-norm (LayerNorm), d_model 256, 4 layers, 4 heads, SwiGLU MLP 1024, vocab 512,
sequence 96, batch 16, AdamW; the same architecture as the TypeScript reference step. Prints one JSON
line: {"ms_per_step": …, "threads": …, "torch": …}. Usage: python3 reference_step.py [--steps N] [--threads T]
"""

import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

D_MODEL, LAYERS, HEADS, HIDDEN, VOCAB, SEQ, BATCH = 256, 4, 4, 1024, 512, 96, 16


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL, bias=False)
        self.proj = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.gate = nn.Linear(D_MODEL, HIDDEN, bias=False)
        self.up = nn.Linear(D_MODEL, HIDDEN, bias=False)
        self.down = nn.Linear(HIDDEN, D_MODEL, bias=False)

    def forward(self, x, causal):
        B, L, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D_MODEL, dim=2)
        heads = lambda t: t.view(B, L, HEADS, D_MODEL // HEADS).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D_MODEL // HEADS)
        att = scores.masked_fill(causal, float("-inf")).softmax(-1) @ v
        x = x + self.proj(att.transpose(1, 2).reshape(B, L, D_MODEL))
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Embedding(SEQ, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB, bias=False)
        self.register_buffer("causal", torch.ones(SEQ, SEQ, dtype=torch.bool).triu(1))

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos(torch.arange(tokens.shape[1]))
        for b in self.blocks:
            x = b(x, self.causal)
        return self.head(self.ln(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    tokens = torch.randint(0, VOCAB, (BATCH, SEQ + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]

    def step():
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    print(json.dumps({"ms_per_step": 1000 * times[len(times) // 2], "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
