#!/usr/bin/python3
"""An independent LLaVA in plain PyTorch float64 (no transformers), from the published architecture.

CLIP ViT (Radford et al. 2021; Hugging Face's CLIPVisionModel): stride-p patch convolution without bias, a
class embedding prepended, learned position embeddings, a layer norm before the encoder, pre-norm encoder
layers (full attention with biases, quick-GELU MLP). LLaVA (Liu et al. 2023): the hidden state of
vision_feature_layer (concatenated when a list), the class token dropped under the "default" strategy, a
linear-GELU-linear projector, its rows replacing the image-token positions of the prompt in order, then a
Llama decoder (RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU).

usage:
  llava_reference.py make DIR --seed N [--layout 4|5] [--strategy default|full] [--layers -2|-1,1] [--text llama|mistral]
                     [--vocab 72] [--image-token 70]
      writes a random tiny llava folder: config.json, preprocessor_config.json, model.safetensors (F32)
  llava_reference.py logits DIR CASES.json OUT.f32
      CASES: [{"ids": [...], "pixels": "file of little-endian f32 [n,3,S,S]" or null}]; writes every position's
      logits of every case as little-endian float32
  llava_reference.py path-logits PATH.json CASES.json OUT.f32
      the same for a DFS layer path, PATH {"models": [llava dir, other llava or plain Llama dirs...],
      "steps": [{"model": m, "layer": l, "scale": s}]}: model 0 gives embeddings, image features, final norm, head
"""
import json
import struct
import sys

import numpy as np
import torch


# ---------------------------------------------------------------- safetensors by hand

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


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
        b, e = info["data_offsets"]
        arr = np.frombuffer(data, dtype="<f4", count=(e - b) // 4, offset=8 + n + b).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


# ---------------------------------------------------------------- the random folder

def make(out_dir, seed, layout, strategy, layers, text_type, vocab=72, image_token=70):
    g = torch.Generator().manual_seed(seed)
    vis = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, image_size=28,
               patch_size=7, num_channels=3, layer_norm_eps=1e-5, hidden_act="quick_gelu", model_type="clip_vision_model")
    txt = dict(model_type=text_type, vocab_size=vocab, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0,
               max_position_embeddings=256, tie_word_embeddings=False)
    cfg = dict(architectures=["LlavaForConditionalGeneration"], model_type="llava", image_token_index=image_token,
               vision_feature_layer=layers if len(layers) > 1 else layers[0], vision_feature_select_strategy=strategy,
               projector_hidden_act="gelu", vision_config=vis, text_config=txt, image_seq_length=16 + (strategy == "full"))

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    def norm_w(n):
        return 1 + rnd(n, scale=0.1)

    V, T = vis["hidden_size"], txt["hidden_size"]
    n_pos = (vis["image_size"] // vis["patch_size"]) ** 2 + 1
    w = {}
    vp = "vision_tower.vision_model."
    w[vp + "embeddings.class_embedding"] = rnd(V)
    w[vp + "embeddings.patch_embedding.weight"] = rnd(V, 3, vis["patch_size"], vis["patch_size"], scale=0.1)
    w[vp + "embeddings.position_embedding.weight"] = rnd(n_pos, V)
    w[vp + "pre_layrnorm.weight"], w[vp + "pre_layrnorm.bias"] = norm_w(V), rnd(V, scale=0.1)
    for i in range(vis["num_hidden_layers"]):
        p = f"{vp}encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[p + f"self_attn.{proj}.weight"], w[p + f"self_attn.{proj}.bias"] = rnd(V, V), rnd(V, scale=0.1)
        w[p + "layer_norm1.weight"], w[p + "layer_norm1.bias"] = norm_w(V), rnd(V, scale=0.1)
        w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"] = rnd(vis["intermediate_size"], V), rnd(vis["intermediate_size"], scale=0.1)
        w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"] = rnd(V, vis["intermediate_size"]), rnd(V, scale=0.1)
        w[p + "layer_norm2.weight"], w[p + "layer_norm2.bias"] = norm_w(V), rnd(V, scale=0.1)
    w[vp + "post_layernorm.weight"], w[vp + "post_layernorm.bias"] = norm_w(V), rnd(V, scale=0.1)
    w["multi_modal_projector.linear_1.weight"] = rnd(T, V * len(layers))
    w["multi_modal_projector.linear_1.bias"] = rnd(T, scale=0.1)
    w["multi_modal_projector.linear_2.weight"], w["multi_modal_projector.linear_2.bias"] = rnd(T, T), rnd(T, scale=0.1)
    hd = T // txt["num_attention_heads"]
    kv = txt["num_key_value_heads"] * hd
    lm = {"model.embed_tokens.weight": rnd(txt["vocab_size"], T, scale=0.5), "model.norm.weight": norm_w(T),
          "lm_head.weight": rnd(txt["vocab_size"], T)}
    for i in range(txt["num_hidden_layers"]):
        p = f"model.layers.{i}."
        lm[p + "input_layernorm.weight"] = norm_w(T)
        lm[p + "self_attn.q_proj.weight"] = rnd(T, T)
        lm[p + "self_attn.k_proj.weight"] = rnd(kv, T)
        lm[p + "self_attn.v_proj.weight"] = rnd(kv, T)
        lm[p + "self_attn.o_proj.weight"] = rnd(T, T)
        lm[p + "post_attention_layernorm.weight"] = norm_w(T)
        lm[p + "mlp.gate_proj.weight"] = rnd(txt["intermediate_size"], T)
        lm[p + "mlp.up_proj.weight"] = rnd(txt["intermediate_size"], T)
        lm[p + "mlp.down_proj.weight"] = rnd(T, txt["intermediate_size"])
    for name, t in lm.items():
        if layout == "4":
            w["language_model." + name] = t
        else:
            w[name if name == "lm_head.weight" else "model.language_model." + name[len("model."):]] = t
    if layout == "5":
        w = {("model." + k if k.startswith(("vision_tower.", "multi_modal_projector.")) else k): v for k, v in w.items()}
    write_safetensors(f"{out_dir}/model.safetensors", w)
    with open(f"{out_dir}/config.json", "w") as f:
        json.dump(cfg, f, indent=1)
    with open(f"{out_dir}/preprocessor_config.json", "w") as f:
        json.dump({"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 28},
                   "crop_size": {"height": 28, "width": 28}, "resample": 3, "do_resize": True, "do_center_crop": True,
                   "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                   "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}, f)


# ---------------------------------------------------------------- the forward

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def canonical(w):
    """Either transformers layout -> 4.x names."""
    out = {}
    for k, v in w.items():
        if k.startswith("model.language_model."):
            k = "language_model.model." + k[len("model.language_model."):]
        elif k == "lm_head.weight":
            k = "language_model.lm_head.weight"
        elif k.startswith("model."):
            k = k[len("model."):]
        out[k] = v
    return out


def vision_features(cfg, w, pixels):
    vc = cfg["vision_config"]
    V, heads, eps = vc["hidden_size"], vc["num_attention_heads"], vc["layer_norm_eps"]
    p = "vision_tower.vision_model."
    x = torch.nn.functional.conv2d(pixels, w[p + "embeddings.patch_embedding.weight"], stride=vc["patch_size"])
    x = x.flatten(2).transpose(1, 2)                                   # [n, patches, V], row-major patches
    cls = w[p + "embeddings.class_embedding"].expand(x.shape[0], 1, V)
    x = torch.cat([cls, x], 1) + w[p + "embeddings.position_embedding.weight"]
    x = layer_norm(x, w[p + "pre_layrnorm.weight"], w[p + "pre_layrnorm.bias"], eps)
    states = [x]
    n, t, hd = x.shape[0], x.shape[1], V // heads
    for i in range(vc["num_hidden_layers"]):
        q = f"{p}encoder.layers.{i}."
        lin = lambda h, name: h @ w[q + name + ".weight"].T + w[q + name + ".bias"]
        h = layer_norm(x, w[q + "layer_norm1.weight"], w[q + "layer_norm1.bias"], eps)
        split = lambda y: y.view(n, t, heads, hd).transpose(1, 2)
        qh, kh, vh = split(lin(h, "self_attn.q_proj")), split(lin(h, "self_attn.k_proj")), split(lin(h, "self_attn.v_proj"))
        att = ((qh @ kh.transpose(-1, -2)) * hd ** -0.5).softmax(-1) @ vh
        x = x + lin(att.transpose(1, 2).reshape(n, t, V), "self_attn.out_proj")
        h = layer_norm(x, w[q + "layer_norm2.weight"], w[q + "layer_norm2.bias"], eps)
        h = lin(h, "mlp.fc1")
        h = h * torch.sigmoid(1.702 * h)                                # quick GELU
        x = x + lin(h, "mlp.fc2")
        states.append(x)
    layers = cfg["vision_feature_layer"]
    layers = layers if isinstance(layers, list) else [layers]
    f = torch.cat([states[l] for l in layers], -1)
    if cfg["vision_feature_select_strategy"] == "default":
        f = f[:, 1:]
    h = f @ w["multi_modal_projector.linear_1.weight"].T + w["multi_modal_projector.linear_1.bias"]
    h = 0.5 * h * (1 + torch.erf(h / 2 ** 0.5))                         # exact GELU
    return h @ w["multi_modal_projector.linear_2.weight"].T + w["multi_modal_projector.linear_2.bias"]


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(tc, T):
    hd = tc["hidden_size"] // tc["num_attention_heads"]
    inv = 1.0 / (tc.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    fr = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    return torch.cat((fr, fr), -1).cos()[:, None, :], torch.cat((fr, fr), -1).sin()[:, None, :]


def block(tc, w, p, x, cos, sin):
    """One decoder layer at prefix p: (the stream after attention, the MLP's output not yet added)."""
    T = x.shape[0]
    H, heads = tc["hidden_size"], tc["num_attention_heads"]
    kvh, hd, eps = tc.get("num_key_value_heads", heads), H // heads, tc["rms_norm_eps"]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
    q = (h @ w[p + "self_attn.q_proj.weight"].T).view(T, heads, hd)
    k = (h @ w[p + "self_attn.k_proj.weight"].T).view(T, kvh, hd)
    v = (h @ w[p + "self_attn.v_proj.weight"].T).view(T, kvh, hd)
    q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
    k, v = k.repeat_interleave(heads // kvh, 1), v.repeat_interleave(heads // kvh, 1)
    s = torch.einsum("qhd,khd->hqk", q, k) / hd ** 0.5 + mask
    x = x + torch.einsum("hqk,khd->qhd", s.softmax(-1), v).reshape(T, H) @ w[p + "self_attn.o_proj.weight"].T
    h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
    g = h @ w[p + "mlp.gate_proj.weight"].T
    return x, (torch.nn.functional.silu(g) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T


def language_model(tc, w, x):
    cos, sin = rope(tc, x.shape[0])
    p0 = "language_model.model."
    for i in range(tc["num_hidden_layers"]):
        x, out = block(tc, w, f"{p0}layers.{i}.", x, cos, sin)
        x = x + out
    return rms_norm(x, w[p0 + "norm.weight"], tc["rms_norm_eps"]) @ w["language_model.lm_head.weight"].T


def path_model(tc, ws, steps, x):
    """A data-flow (DFS) path: step t runs layer steps[t].layer of model steps[t].model; its scale multiplies the
    tensor entering it, i.e. the previous layer's MLP output before it joins the stream (the embeddings, image
    features included, for the first step). Final norm and head: model 0's."""
    cos, sin = rope(tc, x.shape[0])
    p0 = "language_model.model."
    stream, delta = None, x
    for st in steps:
        entering = delta * st["scale"]
        stream = entering if stream is None else stream + entering
        stream, delta = block(tc, ws[st["model"]], f"{p0}layers.{st['layer']}.", stream, cos, sin)
    return rms_norm(stream + delta, ws[0][p0 + "norm.weight"], tc["rms_norm_eps"]) @ ws[0]["language_model.lm_head.weight"].T


def load_any(model_dir):
    """A llava folder (either layout) or a plain Llama folder, in 4.x llava names."""
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(f"{model_dir}/model.safetensors")
    if "text_config" in cfg:
        return cfg, canonical(w)
    return cfg, {"language_model." + k: v for k, v in w.items()}


def logits(model_dir, cases_path, out_path, path=None):
    cfg, w = load_any(model_dir)
    ws = [w] + [load_any(d)[1] for d in (path["models"][1:] if path else [])]
    S = cfg["vision_config"]["image_size"]
    with open(cases_path) as f:
        cases = json.load(f)
    with open(out_path, "wb") as out:
        for case in cases:
            ids = torch.tensor(case["ids"])
            image = ids == cfg["image_token_index"]
            x = w["language_model.model.embed_tokens.weight"][torch.where(image, 0, ids)]
            if case.get("pixels"):
                px = np.fromfile(case["pixels"], dtype="<f4").astype(np.float64).reshape(-1, 3, S, S)
                feats = vision_features(cfg, w, torch.from_numpy(px))
                feats = feats.reshape(-1, feats.shape[-1])
                assert feats.shape[0] == int(image.sum()), (feats.shape, int(image.sum()))
                x = x.clone()
                x[image] = feats
            y = path_model(cfg["text_config"], ws, path["steps"], x) if path else language_model(cfg["text_config"], w, x)
            out.write(y.numpy().astype("<f4").tobytes())


def main(argv):
    if argv[1] == "make":
        opts = dict(zip(argv[3::2], argv[4::2]))
        make(argv[2], int(opts["--seed"]), opts.get("--layout", "4"), opts.get("--strategy", "default"),
             [int(s) for s in opts.get("--layers", "-2").split(",")], opts.get("--text", "llama"),
             int(opts.get("--vocab", "72")), int(opts.get("--image-token", "70")))
    elif argv[1] == "logits":
        logits(argv[2], argv[3], argv[4])
    elif argv[1] == "path-logits":
        with open(argv[2]) as f:
            path = json.load(f)
        logits(path["models"][0], argv[3], argv[4], path)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv)
