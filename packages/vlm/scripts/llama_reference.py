#!/usr/bin/python3
"""Writes a small randomly initialized Llama-architecture checkpoint and its logits, as the golden
fixture for @sr2se/vlm's language tower.

A plain PyTorch implementation of Hugging Face's LlamaForCausalLM (RMSNorm, rotary embeddings with
rotate_half, grouped-query attention, SwiGLU MLP, optional tied embeddings), with Hugging Face's
parameter names, saved as safetensors by a minimal writer (no `safetensors` package needed).

    /usr/bin/python3 scripts/llama_reference.py test/fixtures/llama-tiny
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 96,
    "hidden_size": 32,
    "intermediate_size": 80,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "max_position_embeddings": 128,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "torch_dtype": "float32",
}


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def forward(p, c, ids):
    B, T = ids.shape
    H, Hkv, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    x = p["model.embed_tokens.weight"][ids]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    pos = torch.arange(T, dtype=torch.float64)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().float(), emb.sin().float()
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(c["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = rms_norm(x, p[pre + "input_layernorm.weight"], c["rms_norm_eps"])
        q = (h @ p[pre + "self_attn.q_proj.weight"].T).view(B, T, H, D).transpose(1, 2)
        k = (h @ p[pre + "self_attn.k_proj.weight"].T).view(B, T, Hkv, D).transpose(1, 2)
        v = (h @ p[pre + "self_attn.v_proj.weight"].T).view(B, T, Hkv, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D) + mask
        att = att.softmax(-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + o @ p[pre + "self_attn.o_proj.weight"].T
        h = rms_norm(x, p[pre + "post_attention_layernorm.weight"], c["rms_norm_eps"])
        gate = h @ p[pre + "mlp.gate_proj.weight"].T
        up = h @ p[pre + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ p[pre + "mlp.down_proj.weight"].T
    x = rms_norm(x, p["model.norm.weight"], c["rms_norm_eps"])
    head = p["model.embed_tokens.weight"] if c["tie_word_embeddings"] else p["lm_head.weight"]
    return x @ head.T


def init(c, gen):
    V, E, F, D = c["vocab_size"], c["hidden_size"], c["intermediate_size"], c["head_dim"]
    H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
    def n(*shape, std=0.08):
        return torch.randn(*shape, generator=gen) * std
    p = {"model.embed_tokens.weight": n(V, E, std=0.5)}
    for i in range(c["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        p[pre + "input_layernorm.weight"] = 1 + n(E, std=0.1)
        p[pre + "self_attn.q_proj.weight"] = n(H * D, E, std=0.3)
        p[pre + "self_attn.k_proj.weight"] = n(Hkv * D, E, std=0.3)
        p[pre + "self_attn.v_proj.weight"] = n(Hkv * D, E)
        p[pre + "self_attn.o_proj.weight"] = n(E, H * D)
        p[pre + "post_attention_layernorm.weight"] = 1 + n(E, std=0.1)
        p[pre + "mlp.gate_proj.weight"] = n(F, E)
        p[pre + "mlp.up_proj.weight"] = n(F, E)
        p[pre + "mlp.down_proj.weight"] = n(E, F)
    p["model.norm.weight"] = 1 + n(E, std=0.1)
    if not c["tie_word_embeddings"]:
        p["lm_head.weight"] = n(V, E, std=0.3)
    return p


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/llama-tiny")
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(1234)
    params = init(CONFIG, gen)
    ids = torch.randint(0, CONFIG["vocab_size"], (2, 11), generator=gen)
    with torch.no_grad():
        logits = forward(params, CONFIG, ids)
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    save_safetensors(out / "model.safetensors", params)
    save_safetensors(out / "expected.safetensors", {"input_ids": ids.to(torch.int32), "logits": logits.float()})
    print(f"wrote {out}: {sum(t.numel() for t in params.values())} parameters, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
