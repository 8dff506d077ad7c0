#!/usr/bin/python3
"""Writes test/fixtures/optim.json: parameters after SGD / AdamW steps on fixed gradients, and
clip_grad_norm_ results, from PyTorch. Run: /usr/bin/python3 packages/tensor/scripts/golden_optim.py"""
import json
import os

import torch

torch.manual_seed(7)
p0 = torch.randn(3, 4, dtype=torch.float64)
grads = [torch.randn(3, 4, dtype=torch.float64) for _ in range(4)]
out = {"p0": p0.flatten().tolist(), "grads": [g.flatten().tolist() for g in grads], "cases": []}

CONFIGS = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
]
for name, cfg in CONFIGS:
    p = p0.clone().requires_grad_(True)
    opt = (torch.optim.SGD if name == "sgd" else torch.optim.AdamW)([p], **cfg)
    traj = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        traj.append(p.detach().flatten().tolist())
    out["cases"].append({"optimizer": name, "config": cfg, "trajectory": traj})

a = torch.randn(5, dtype=torch.float64).requires_grad_(True)
b = torch.randn(2, 3, dtype=torch.float64).requires_grad_(True)
a.grad = torch.randn(5, dtype=torch.float64) * 3
b.grad = torch.randn(2, 3, dtype=torch.float64) * 3
ga, gb = a.grad.clone(), b.grad.clone()
norm = torch.nn.utils.clip_grad_norm_([a, b], 1.5)
out["clip"] = {"grads": [ga.tolist(), gb.flatten().tolist()], "maxNorm": 1.5, "norm": norm.item(), "clipped": [a.grad.tolist(), b.grad.flatten().tolist()]}

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "optim.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path)
