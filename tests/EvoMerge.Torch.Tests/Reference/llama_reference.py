#!/usr/bin/python3
"""Reference Llama forward in plain PyTorch (float64), independent of EvoMerge and of llama.cpp.

Reads a Hugging Face model folder (config.json + model.safetensors, float32) and prompts (a JSON list of
token-id lists), and writes the next-token logits of every position of every prompt as little-endian float32,
prompt after prompt, position after position, vocab_size values each.

--round f16|bf16|q8_0 first rounds every 2-D weight the way a GGUF of that type stores it (Q8_0: per block of
32, scale f16(max|x|/127), quants round-half-away(x/scale)), and rounds the input of every matrix product the
way llama.cpp's CPU backend does before its dot products (to f16, to bf16, or to Q8_0 blocks), so that a
quantized export can be compared against the arithmetic it implies rather than against float64. The math follows Hugging Face's LlamaForCausalLM: RMSNorm, rotate-half
RoPE, grouped-query attention, SwiGLU MLP.

usage: llama_reference.py MODEL_DIR PROMPTS.json OUT.f32 [--round f16|bf16|q8_0]
"""
import json
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: only F32 references are supported"
        b, e = info["data_offsets"]
        arr = np.frombuffer(data, dtype="<f4", count=(e - b) // 4, offset=base + b).reshape(info["shape"])
        tensors[name] = torch.from_numpy(arr.astype(np.float64))
    return tensors


def round_like_gguf(w, kind):
    """Rounds the rows of w (last dimension) to GGUF type `kind`; Q8_0 rows that are not whole blocks become f16."""
    w32 = w.to(torch.float32)
    if kind == "f16" or (kind == "q8_0" and w.shape[-1] % 32 != 0):
        return w32.to(torch.float16).to(torch.float64)
    if kind == "bf16":
        return w32.to(torch.bfloat16).to(torch.float64)
    if kind == "q8_0":
        blocks = w32.reshape(-1, 32)
        d = blocks.abs().max(dim=1, keepdim=True).values / 127.0
        inv = torch.where(d != 0, 1.0 / d, torch.zeros_like(d))
        x = blocks * inv
        q = torch.sign(x) * torch.floor(x.abs() + 0.5)
        return (q.to(torch.float64) * d.to(torch.float16).to(torch.float64)).reshape(w.shape)
    raise ValueError(kind)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def scale_rope(inv_freq, scaling):
    """transformers' rope_scaling: linear divides every frequency; llama3 divides the low ones, keeps the high ones
    and interpolates the band between (wavelengths from original/high_freq_factor to original/low_freq_factor)."""
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "default":
        return inv_freq
    factor = scaling["factor"]
    if kind == "linear":
        return inv_freq / factor
    assert kind == "llama3", kind
    low, high = scaling.get("low_freq_factor", 1.0), scaling.get("high_freq_factor", 4.0)
    original = scaling.get("original_max_position_embeddings", 8192)
    wavelen = 2 * torch.pi / inv_freq
    smooth = (original / wavelen - low) / (high - low)
    mid = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    return torch.where(wavelen > original / low, inv_freq / factor, torch.where(wavelen < original / high, inv_freq, mid))


def forward(cfg, w, ids, kind):
    hidden = cfg["hidden_size"]
    n_head = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads", n_head)
    head_dim = cfg.get("head_dim") or hidden // n_head
    eps = cfg["rms_norm_eps"]
    theta = cfg.get("rope_theta", 10000.0)
    T = len(ids)

    inv_freq = scale_rope(1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)), cfg.get("rope_scaling"))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    cos = torch.cat((freqs, freqs), -1).cos()[:, None, :]
    sin = torch.cat((freqs, freqs), -1).sin()[:, None, :]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)

    def matmul(x, weight):
        if kind:
            x = round_like_gguf(x, kind)  # llama.cpp's vec_dot type for this weight type
        return x @ weight.T

    def linear(x, name):
        y = matmul(x, w[name + ".weight"])
        return y + w[name + ".bias"] if name + ".bias" in w else y

    x = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(h, p + "self_attn.q_proj").view(T, n_head, head_dim)
        k = linear(h, p + "self_attn.k_proj").view(T, n_kv, head_dim)
        v = linear(h, p + "self_attn.v_proj").view(T, n_kv, head_dim)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(n_head // n_kv, dim=1)
        v = v.repeat_interleave(n_head // n_kv, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) / head_dim ** 0.5 + mask
        att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(T, n_head * head_dim)
        x = x + linear(att, p + "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(h, p + "mlp.gate_proj")
        x = x + linear(torch.nn.functional.silu(gate) * linear(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return matmul(x, head)


def main(argv):
    model_dir, prompts_path, out_path = argv[1:4]
    kind = argv[5] if len(argv) > 5 and argv[4] == "--round" else None
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(f"{model_dir}/model.safetensors")
    if kind:
        # GGUF exports keep 1-D tensors (norms, biases) in float32.
        w = {name: round_like_gguf(t, kind) if t.dim() == 2 else t for name, t in w.items()}
    with open(prompts_path) as f:
        prompts = json.load(f)
    with open(out_path, "wb") as out:
        for ids in prompts:
            out.write(forward(cfg, w, ids, kind).to(torch.float32).numpy().astype("<f4").tobytes())


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv)
