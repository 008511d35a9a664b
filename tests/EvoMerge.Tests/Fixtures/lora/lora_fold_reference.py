#!/usr/bin/env python3
"""Independent LoRA fold, written from the formats' descriptions (no PEFT, no diffusers, no EvoMerge code).

usage: lora_fold_reference.py [--unet sdxl|<unet config.json>] <model> <merged> <lora>:<strength> [<lora>:<strength> ...]

<model> and <merged> are a model folder or a .safetensors file; each <lora> is a PEFT adapter folder
(adapter_config.json + adapter_model.safetensors) or a kohya .safetensors file. Folds every LoRA into <model> in
float64 numpy, in the order given, and compares with <merged>:

- kohya: keys <module>.lora_down.weight [r, in(, kh, kw)], <module>.lora_up.weight [out, r(, 1, 1)], optional
  <module>.alpha; <module> is "lora_<component>_" + the target's module path with '.' -> '_'; the target is the
  weight whose path, '.' -> '_', equals that path or ends with "_" + it; where several do, the one under the
  component's root (unet/, text_encoder/, text_encoder_2/ of a pipeline; model.diffusion_model.,
  conditioner.embedders.0., conditioner.embedders.1. of an SDXL single file). W += strength * alpha / r * up @ down.
  A Stable Diffusion model answers to both namings of its modules:
  - the UNet's LDM names and diffusers names: ../diffusion/sdxl_structure.py walks the UNet of the config (the
    pipeline's unet/config.json, or --unet) once per naming in the same module order, so the i-th names of the two
    walks are one tensor;
  - OpenCLIP's text tower (conditioner.embedders.1.model.transformer.resblocks.N.) under CLIP's names: its attention is
    torch's nn.MultiheadAttention, whose in_proj_weight stacks the q, k and v projections' rows in that order;
    attn.out_proj is self_attn.out_proj, mlp.c_fc is mlp.fc1, mlp.c_proj is mlp.fc2.
- PEFT: keys base_model.model.<module>.lora_A.weight / .lora_B.weight (or lora_embedding_A / _B); rank and alpha from
  r / lora_alpha, overridden by the first rank_pattern / alpha_pattern key k with re.match(r"(.*\\.)?(k)$", module);
  scale alpha / r, or alpha / sqrt(r) with use_rslora. W += strength * scale * B @ A, transposed for embeddings and
  fan_in_fan_out. Other keys base_model.model.<tensor> replace the tensor: W += strength * (R - W).

Prints JSON: tensors compared, tensors the LoRAs change, largest |reference - merged| and its tensor, largest |change|.
"""
import json
import math
import os
import re
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "diffusion"))
import sdxl_structure  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length].decode("utf-8"))
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = data[base + start:base + end]
        kind = entry["dtype"]
        if kind == "F32":
            values = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif kind == "F16":
            values = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif kind == "BF16":
            values = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            raise SystemExit(f"{path}: {name} has dtype {kind}")
        tensors[name] = values.reshape(entry["shape"])
    return tensors


def read_model(path):
    if os.path.isfile(path):
        return read_safetensors(path)
    tensors = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".safetensors"):
            tensors.update(read_safetensors(os.path.join(path, name)))
    if os.path.exists(os.path.join(path, "model_index.json")):
        # A diffusers pipeline: each component folder's tensors under "<folder>.".
        for folder in sorted(os.listdir(path)):
            if os.path.isdir(os.path.join(path, folder)):
                for name, value in read_model(os.path.join(path, folder)).items():
                    tensors[folder + "." + name] = value
    return tensors


# kohya's components and the roots of their modules in a pipeline folder and in a single file ('.' -> '_').
ROOTS = {"unet": ("unet_", "model_diffusion_model_"), "te": ("text_encoder_", "cond_stage_model_transformer_"),
         "te1": ("text_encoder_", "conditioner_embedders_0_transformer_"), "te2": ("text_encoder_2_", "conditioner_embedders_1_")}
UNET_ROOTS = ("unet.", "model.diffusion_model.", "")


def unet_partners(config):
    """{name: the same tensor's name in the other naming} for the UNet of this diffusers config."""
    if config is None:
        return {}
    ldm, diffusers = sdxl_structure.unet(config, ldm=True), sdxl_structure.unet(config, ldm=False)
    pairs = {}
    for a, b in zip(ldm, diffusers):
        pairs[a["name"]] = b["name"]
        pairs[b["name"]] = a["name"]
    return pairs


def targets(model, partners):
    """{module path with '_': (weight name, row slice or None)}: every weight under its own path and its other names."""
    paths = {}
    for name in model:
        if name.endswith(".weight"):
            paths[name[:-len(".weight")].replace(".", "_")] = (name, None)
        for root in UNET_ROOTS:
            if name.startswith(root) and name[len(root):] in partners and name.endswith(".weight"):
                paths[(root + partners[name[len(root):]])[:-len(".weight")].replace(".", "_")] = (name, None)
                break
        m = re.match(r"(.*)model\.transformer\.resblocks\.(\d+)\.(.*)$", name)
        if m:
            root, layer, rest = m.group(1), m.group(2), m.group(3)
            clip = f"{root}text_model.encoder.layers.{layer}."
            if rest == "attn.in_proj_weight":
                h = model[name].shape[0] // 3
                for i, proj in enumerate(("q_proj", "k_proj", "v_proj")):
                    paths[(clip + "self_attn." + proj).replace(".", "_")] = (name, slice(i * h, (i + 1) * h))
            for open_clip, hf in (("attn.out_proj.weight", "self_attn.out_proj"), ("mlp.c_fc.weight", "mlp.fc1"), ("mlp.c_proj.weight", "mlp.fc2")):
                if rest == open_clip:
                    paths[(clip + hf).replace(".", "_")] = (name, None)
    return paths


def fold_kohya(model, lora, strength, changed, partners):
    by_path = targets(model, partners)
    for key in lora:
        if not key.endswith(".lora_down.weight"):
            continue
        module = key[:-len(".lora_down.weight")]
        down, up = lora[key], lora[module + ".lora_up.weight"]
        rank = down.shape[0]
        alpha = float(lora[module + ".alpha"].reshape(-1)[0]) if module + ".alpha" in lora else rank
        component, path = module.split("_", 2)[1:]   # drop "lora_", keep the component
        found = [t for p, t in by_path.items() if p == path or p.endswith("_" + path)]
        if len(found) > 1:
            found = [t for p, t in by_path.items() if any(p == root + path for root in ROOTS[component])]
        if len(found) != 1:
            raise SystemExit(f"{module}: {len(found)} targets")
        name, rows = found[0]
        w = model[name] if rows is None else model[name][rows]
        delta = (up.reshape(up.shape[0], rank) @ down.reshape(rank, -1)).reshape(w.shape)
        if rows is None:
            model[name] = w + strength * alpha / rank * delta
        else:
            model[name] = model[name].copy()
            model[name][rows] = w + strength * alpha / rank * delta
        changed.add(name)


def pattern(patterns, module, default):
    for key, value in patterns.items():
        if re.match(r"(.*\.)?(" + key + r")$", module):
            return value
    return default


def fold_peft(model, folder, strength, changed):
    with open(os.path.join(folder, "adapter_config.json")) as f:
        config = json.load(f)
    lora = read_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    prefix = "base_model.model."
    for key, value in lora.items():
        name = key[len(prefix):]
        m = re.match(r"(.*)\.(lora_A|lora_embedding_A)(\.weight)?$", name)
        if m:
            module, embedding = m.group(1), m.group(2) == "lora_embedding_A"
            a = value
            b = lora[prefix + module + (".lora_embedding_B" if embedding else ".lora_B.weight")]
            r = pattern(config.get("rank_pattern") or {}, module, config["r"])
            alpha = pattern(config.get("alpha_pattern") or {}, module, config["lora_alpha"])
            assert a.shape[0] == r, (module, a.shape, r)
            scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
            delta = b @ a
            if embedding or config.get("fan_in_fan_out"):
                delta = delta.T
            target = module + ".weight"
            model[target] = model[target] + strength * scale * delta
            changed.add(target)
        elif ".lora_B" not in name and ".lora_embedding_B" not in name:
            model[name] = model[name] + strength * (value - model[name])
            changed.add(name)


def main():
    args = sys.argv[1:]
    config = None
    if args[0] == "--unet":
        config = sdxl_structure.UNET if args[1] == "sdxl" else json.load(open(args[1]))
        args = args[2:]
    if config is None and os.path.isfile(os.path.join(args[0], "unet", "config.json")):
        config = json.load(open(os.path.join(args[0], "unet", "config.json")))
    partners = unet_partners(config)
    model = read_model(args[0])
    original = {k: v.copy() for k, v in model.items()}
    merged = read_model(args[1])
    changed = set()
    for spec in args[2:]:
        path, strength = spec.rsplit(":", 1)
        if os.path.isdir(path):
            fold_peft(model, path, float(strength), changed)
        else:
            fold_kohya(model, read_safetensors(path), float(strength), changed, partners)
    if set(model) != set(merged):
        raise SystemExit(f"tensor names differ: {sorted(set(model) ^ set(merged))[:5]}")
    print(json.dumps({
        "tensors": len(model),
        "changed": len(changed),
        "max_diff": max(float(np.max(np.abs(model[k] - merged[k]))) for k in model),
        "worst": max(model, key=lambda k: float(np.max(np.abs(model[k] - merged[k])))),
        "max_change": max(float(np.max(np.abs(model[k] - original[k]))) for k in changed) if changed else 0.0,
    }))


main()
