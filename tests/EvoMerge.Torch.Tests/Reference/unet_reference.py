#!/usr/bin/python3
"""An independent text-conditioned UNet in plain PyTorch float64 (no diffusers), written from the published
architecture of diffusers' UNet2DConditionModel (SDXL flavour: linear projections in the transformers) and
transformers' CLIPTextModel, reading a pipeline folder's safetensors by hand.

UNet (Ronneberger et al. 2015; Rombach et al. 2022): sinusoidal timestep features (cos first when flip_sin_to_cos),
linear-SiLU-linear time embedding; conv_in; down blocks of ResNet blocks (GroupNorm, SiLU, 3x3 conv, + projected
time embedding, GroupNorm, SiLU, 3x3 conv, + 1x1 shortcut when channels change), each followed by a spatial
transformer in cross-attention blocks (GroupNorm eps 1e-6, linear proj_in over pixels as tokens, blocks of
LayerNorm+self-attention, LayerNorm+cross-attention to the text, LayerNorm+GEGLU feed-forward, proj_out, residual),
stride-2 conv downsampling between blocks; a mid block resnet-transformer-resnet; up blocks of layers+1 resnets on
the input concatenated with skip outputs taken newest first, nearest x2 then 3x3 conv upsampling; GroupNorm, SiLU,
conv_out. CLIP text: token + position embeddings, pre-norm layers with causal attention and quick-GELU MLP,
final layer norm.

usage: unet_reference.py PIPELINE_DIR CASE.json OUT.f64
  CASE: {"ids": [[...]], "sample": "file of little-endian f32 [n,c,s,s]", "timesteps": [...]}
  writes the text states [n,tokens,hidden] then the UNet output [n,c,s,s], little-endian float64
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


def linear(w, p, x, bias=True):
    return F.linear(x, w[p + ".weight"], w.get(p + ".bias") if bias else None)


def attention(w, p, x, ctx, heads):
    b, n, d = x.shape
    q = linear(w, p + ".to_q", x, bias=False)
    k = linear(w, p + ".to_k", ctx, bias=False)
    v = linear(w, p + ".to_v", ctx, bias=False)
    hd = d // heads
    def split(t):
        return t.view(b, t.shape[1], heads, hd).transpose(1, 2)
    q, k, v = split(q), split(k), split(v)
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
    y = (att @ v).transpose(1, 2).reshape(b, n, d)
    return linear(w, p + ".to_out.0", y)


def layer_norm(w, p, x, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps)


def group_norm(w, p, x, groups, eps):
    return F.group_norm(x, groups, w[p + ".weight"], w[p + ".bias"], eps)


def conv(w, p, x, stride=1):
    k = w[p + ".weight"]
    return F.conv2d(x, k, w[p + ".bias"], stride=stride, padding=k.shape[-1] // 2)


def resnet(w, p, x, temb, cfg):
    g, eps = cfg["norm_num_groups"], cfg["norm_eps"]
    h = conv(w, p + ".conv1", F.silu(group_norm(w, p + ".norm1", x, g, eps)))
    h = h + linear(w, p + ".time_emb_proj", F.silu(temb))[:, :, None, None]
    h = conv(w, p + ".conv2", F.silu(group_norm(w, p + ".norm2", h, g, eps)))
    if p + ".conv_shortcut.weight" in w:
        x = conv(w, p + ".conv_shortcut", x)
    return x + h


def transformer(w, p, x, ctx, heads, cfg):
    b, c, hh, ww = x.shape
    h = group_norm(w, p + ".norm", x, cfg["norm_num_groups"], 1e-6)
    h = h.permute(0, 2, 3, 1).reshape(b, hh * ww, c)
    h = linear(w, p + ".proj_in", h)
    k = 0
    while f"{p}.transformer_blocks.{k}.norm1.weight" in w:
        q = f"{p}.transformer_blocks.{k}"
        h = h + attention(w, q + ".attn1", layer_norm(w, q + ".norm1", h), layer_norm(w, q + ".norm1", h), heads)
        h = h + attention(w, q + ".attn2", layer_norm(w, q + ".norm2", h), ctx, heads)
        a, gate = linear(w, q + ".ff.net.0.proj", layer_norm(w, q + ".norm3", h)).chunk(2, dim=-1)
        h = h + linear(w, q + ".ff.net.2", a * F.gelu(gate))
        k += 1
    h = linear(w, p + ".proj_out", h).reshape(b, hh, ww, c).permute(0, 3, 1, 2)
    return h + x


def heads_list(cfg):
    h = cfg["attention_head_dim"]
    return h if isinstance(h, list) else [h] * len(cfg["block_out_channels"])


def unet(w, cfg, sample, timesteps, ctx):
    c0 = cfg["block_out_channels"][0]
    half = c0 // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float64) / (half - cfg["freq_shift"]))
    ang = timesteps.double()[:, None] * freqs[None, :]
    feats = torch.cat([torch.cos(ang), torch.sin(ang)], 1) if cfg["flip_sin_to_cos"] else torch.cat([torch.sin(ang), torch.cos(ang)], 1)
    temb = linear(w, "time_embedding.linear_2", F.silu(linear(w, "time_embedding.linear_1", feats)))
    heads = heads_list(cfg)
    n = len(cfg["block_out_channels"])
    L = cfg["layers_per_block"]
    x = conv(w, "conv_in", sample)
    skips = [x]
    for i in range(n):
        for j in range(L):
            x = resnet(w, f"down_blocks.{i}.resnets.{j}", x, temb, cfg)
            if cfg["down_block_types"][i] == "CrossAttnDownBlock2D":
                x = transformer(w, f"down_blocks.{i}.attentions.{j}", x, ctx, heads[i], cfg)
            skips.append(x)
        if i < n - 1:
            x = conv(w, f"down_blocks.{i}.downsamplers.0.conv", x, stride=2)
            skips.append(x)
    x = resnet(w, "mid_block.resnets.0", x, temb, cfg)
    x = transformer(w, "mid_block.attentions.0", x, ctx, heads[-1], cfg)
    x = resnet(w, "mid_block.resnets.1", x, temb, cfg)
    rheads = list(reversed(heads))
    for i in range(n):
        for j in range(L + 1):
            x = torch.cat([x, skips.pop()], 1)
            x = resnet(w, f"up_blocks.{i}.resnets.{j}", x, temb, cfg)
            if cfg["up_block_types"][i] == "CrossAttnUpBlock2D":
                x = transformer(w, f"up_blocks.{i}.attentions.{j}", x, ctx, rheads[i], cfg)
        if i < n - 1:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = conv(w, f"up_blocks.{i}.upsamplers.0.conv", x)
    x = F.silu(group_norm(w, "conv_norm_out", x, cfg["norm_num_groups"], cfg["norm_eps"]))
    return conv(w, "conv_out", x)


def clip_text(w, cfg, ids):
    b, t = ids.shape
    h = w["text_model.embeddings.token_embedding.weight"][ids] + w["text_model.embeddings.position_embedding.weight"][:t][None]
    heads = cfg["num_attention_heads"]
    hd = h.shape[-1] // heads
    mask = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"text_model.encoder.layers.{i}"
        x = layer_norm(w, p + ".layer_norm1", h, cfg["layer_norm_eps"])
        def split(z):
            return z.view(b, t, heads, hd).transpose(1, 2)
        q, k, v = (split(linear(w, f"{p}.self_attn.{n}_proj", x)) for n in ("q", "k", "v"))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1)
        h = h + linear(w, p + ".self_attn.out_proj", (att @ v).transpose(1, 2).reshape(b, t, -1))
        x = linear(w, p + ".mlp.fc1", layer_norm(w, p + ".layer_norm2", h, cfg["layer_norm_eps"]))
        h = h + linear(w, p + ".mlp.fc2", x * torch.sigmoid(1.702 * x))
    return layer_norm(w, "text_model.final_layer_norm", h, cfg["layer_norm_eps"])


def main():
    folder, case_path, out_path = sys.argv[1:4]
    case = json.load(open(case_path))
    ucfg = json.load(open(f"{folder}/unet/config.json"))
    tcfg = json.load(open(f"{folder}/text_encoder/config.json"))
    uw = read_safetensors(f"{folder}/unet/diffusion_pytorch_model.safetensors")
    tw = read_safetensors(f"{folder}/text_encoder/model.safetensors")
    ids = torch.tensor(case["ids"], dtype=torch.long)
    c, s = ucfg["in_channels"], ucfg["sample_size"]
    raw = np.fromfile(case["sample"], dtype="<f4")
    sample = torch.from_numpy(raw.astype(np.float64)).view(len(case["timesteps"]), c, s, s)
    with torch.no_grad():
        ctx = clip_text(tw, tcfg, ids)
        eps = unet(uw, ucfg, sample, torch.tensor(case["timesteps"]), ctx)
    with open(out_path, "wb") as f:
        f.write(ctx.numpy().astype("<f8").tobytes())
        f.write(eps.numpy().astype("<f8").tobytes())


if __name__ == "__main__":
    main()
