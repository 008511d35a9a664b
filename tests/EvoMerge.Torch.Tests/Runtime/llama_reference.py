"""Independent reference forward for the runtime tests: a Hugging Face-style Llama/Mistral/Qwen2 decoder written
directly in PyTorch (float64), reading config.json and an F32 model.safetensors with no EvoMerge code.

usage: /usr/bin/python3 llama_reference.py <model-folder> <ids.json: [[...], ...]> <out.bin: float32 logits>
"""
import json, math, struct, sys

import numpy as np
import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info["dtype"]
        a, b = info["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).reshape(info["shape"]).double()
    return tensors


def inv_freq(cfg, head_dim):
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2).double() / head_dim))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            inv = inv / rs["factor"]
        elif kind == "llama3":  # transformers' _compute_llama3_parameters
            factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            low_wavelen, high_wavelen = old / low, old / high
            wavelen = 2 * math.pi / inv
            scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
            inv = torch.where(medium, smoothed, scaled)
    return inv


def forward(w, cfg, ids):
    hidden, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = cfg.get("head_dim") or hidden // nh
    eps = cfg["rms_norm_eps"]
    B, T = ids.shape
    freqs = torch.outer(torch.arange(T).double(), inv_freq(cfg, hd))
    cos, sin = torch.cat([freqs, freqs], -1).cos(), torch.cat([freqs, freqs], -1).sin()

    def rms(x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def rotate_half(x):
        return torch.cat([-x[..., hd // 2:], x[..., : hd // 2]], -1)

    causal = torch.full((T, T), float("-inf")).double().triu(1)
    x = w["model.embed_tokens.weight"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."

        def linear(name, h):
            y = h @ w[p + name + ".weight"].T
            return y + w[p + name + ".bias"] if p + name + ".bias" in w else y

        h = rms(x, w[p + "input_layernorm.weight"])
        q = linear("self_attn.q_proj", h).view(B, T, nh, hd).transpose(1, 2)
        k = linear("self_attn.k_proj", h).view(B, T, nkv, hd).transpose(1, 2)
        v = linear("self_attn.v_proj", h).view(B, T, nkv, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        att = (q @ k.transpose(-1, -2) / math.sqrt(hd) + causal).softmax(-1)
        x = x + linear("self_attn.o_proj", (att @ v).transpose(1, 2).reshape(B, T, nh * hd))
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        x = x + linear("mlp.down_proj", torch.nn.functional.silu(linear("mlp.gate_proj", h)) * linear("mlp.up_proj", h))
    x = rms(x, w["model.norm.weight"])
    return x @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T


if __name__ == "__main__":
    folder, ids_path, out_path = sys.argv[1:4]
    cfg = json.load(open(f"{folder}/config.json"))
    ids = torch.tensor(json.load(open(ids_path)))
    logits = forward(load_safetensors(f"{folder}/model.safetensors"), cfg, ids)
    logits.float().numpy().astype("<f4").tofile(out_path)
