#!/usr/bin/python3
"""Reference Mixtral forward and MoE router rows in plain PyTorch (float64), independent of EvoMerge.

Written from the Mixtral architecture (Mistral decoder whose MLP is a sparse mixture of experts): per token the
router logits h @ gate.T, softmax over all experts, the top k kept and divided by their sum, and the output the
weighted sum of those experts' w2(silu(w1 h) * w3 h). Every expert is evaluated on every token here and the
unchosen ones get weight zero, so no gather/scatter is shared with the runtime under test. A folder with dense
`mlp.*` weights runs as a plain Llama.

  logits MODEL_DIR PROMPTS.json OUT.f32
      next-token logits of every position of every prompt (token-id lists), little-endian float32.
  gates BASE_DIR SPEC.json OUT.f64
      router rows [layers, experts, hidden] by mergekit-moe's rules, from this script's own forward of the base:
      SPEC = {"mode": "hidden" | "hidden_avg" | "cheap_embed", "experts": [{"positive": [ids...], "negative": [ids...]}]}
      hidden: the stream entering each layer (HF hidden_states[l]) at the last token, mean over prompts;
      hidden_avg: the same averaged over tokens first; cheap_embed: embeddings summed over all tokens of all
      prompts, normalised, for every layer. Row = positive - negative, divided by max(norm, 1e-8).
"""
import json
import sys

import numpy as np
import torch

from llama_reference import read_safetensors, rms_norm, rotate_half, scale_rope


def decoder(cfg, w, ids):
    """Returns (logits [T, vocab], layer inputs [layers, T, hidden])."""
    hidden = cfg["hidden_size"]
    n_head = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_head
    head_dim = cfg.get("head_dim") or hidden // n_head
    eps = cfg["rms_norm_eps"]
    T = len(ids)
    inv_freq = scale_rope(1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)),
                          cfg.get("rope_scaling"))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    cos = torch.cat((freqs, freqs), -1).cos()[:, None, :]
    sin = torch.cat((freqs, freqs), -1).sin()[:, None, :]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    n_experts = cfg.get("num_local_experts", 0) if cfg.get("model_type") == "mixtral" else 0
    top_k = cfg.get("num_experts_per_tok", 2)

    def swiglu(h, up_gate, up, down):
        return (torch.nn.functional.silu(h @ up_gate.T) * (h @ up.T)) @ down.T

    x = w["model.embed_tokens.weight"][ids]
    inputs = []
    for i in range(cfg["num_hidden_layers"]):
        inputs.append(x)
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(T, n_head, head_dim)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(T, n_kv, head_dim)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(T, n_kv, head_dim)
        q = q * cos + rotate_half(q) * sin
        k = (k * cos + rotate_half(k) * sin).repeat_interleave(n_head // n_kv, dim=1)
        v = v.repeat_interleave(n_head // n_kv, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) / head_dim ** 0.5 + mask
        x = x + torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(T, n_head * head_dim) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        if n_experts == 0:
            x = x + swiglu(h, w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"], w[p + "mlp.down_proj.weight"])
            continue
        m = p + "block_sparse_moe."
        probs = (h @ w[m + "gate.weight"].T).softmax(-1)                     # [T, E]
        kept = torch.zeros_like(probs)
        top = probs.topk(top_k, dim=-1)
        kept.scatter_(1, top.indices, top.values)
        kept = kept / kept.sum(-1, keepdim=True)                              # renormalised over the chosen experts
        outs = torch.stack([swiglu(h, w[f"{m}experts.{e}.w1.weight"], w[f"{m}experts.{e}.w3.weight"], w[f"{m}experts.{e}.w2.weight"])
                            for e in range(n_experts)], dim=1)                # [T, E, hidden]
        x = x + (kept[:, :, None] * outs).sum(1)
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T, torch.stack(inputs)


def normalise(v):
    return v / v.norm(dim=-1, keepdim=True).clamp(min=1e-8)


def gate_rows(cfg, w, spec):
    layers = cfg["num_hidden_layers"]
    mode = spec["mode"]

    def prompt_set(prompts):
        if mode == "cheap_embed":
            embed = w["model.embed_tokens.weight"]
            total = sum(embed[ids].sum(0) for ids in prompts)
            return normalise(total)[None, :].repeat(layers, 1)
        states = [decoder(cfg, w, ids)[1] for ids in prompts]                # each [layers, T, hidden]
        reduced = [s[:, -1, :] if mode == "hidden" else s.mean(1) for s in states]
        return torch.stack(reduced).mean(0)                                   # [layers, hidden]

    rows = []
    for e in spec["experts"]:
        r = prompt_set(e["positive"])
        if e.get("negative"):
            r = r - prompt_set(e["negative"])
        rows.append(normalise(r))
    return torch.stack(rows, dim=1)                                           # [layers, experts, hidden]


def main(argv):
    command, model_dir, in_path, out_path = argv[1:5]
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(f"{model_dir}/model.safetensors")
    with open(in_path) as f:
        data = json.load(f)
    with open(out_path, "wb") as out:
        if command == "logits":
            for ids in data:
                out.write(decoder(cfg, w, ids)[0].to(torch.float32).numpy().astype("<f4").tobytes())
        elif command == "gates":
            out.write(gate_rows(cfg, w, data).numpy().astype("<f8").tobytes())
        else:
            raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv)
