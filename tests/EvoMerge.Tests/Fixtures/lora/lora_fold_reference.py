#!/usr/bin/env python3
"""Independent LoRA fold, written from the formats' descriptions (no PEFT, no diffusers, no EvoMerge code).

usage: lora_fold_reference.py <model> <merged> <lora>:<strength> [<lora>:<strength> ...]

<model> and <merged> are a model folder or a .safetensors file; each <lora> is a PEFT adapter folder
(adapter_config.json + adapter_model.safetensors) or a kohya .safetensors file. Folds every LoRA into <model> in
float64 numpy, in the order given, and compares with <merged>:

- kohya: keys <module>.lora_down.weight [r, in(, kh, kw)], <module>.lora_up.weight [out, r(, 1, 1)], optional
  <module>.alpha; <module> is "lora_<component>_" + the target's module path with '.' -> '_'; the target is the
  weight whose path, '.' -> '_', equals that path or ends with "_" + it. W += strength * alpha / r * up @ down.
- PEFT: keys base_model.model.<module>.lora_A.weight / .lora_B.weight (or lora_embedding_A / _B); rank and alpha from
  r / lora_alpha, overridden by the first rank_pattern / alpha_pattern key k with re.match(r"(.*\\.)?(k)$", module);
  scale alpha / r, or alpha / sqrt(r) with use_rslora. W += strength * scale * B @ A, transposed for embeddings and
  fan_in_fan_out. Other keys base_model.model.<tensor> replace the tensor: W += strength * (R - W).

Prints JSON: tensors compared, tensors the LoRAs change, largest |reference - merged|, largest |change|.
"""
import json
import math
import os
import re
import struct
import sys

import numpy as np


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


# kohya's component prefixes and the pipeline folders they address when a path is found in several.
COMPONENTS = {"unet": "unet_", "te": "text_encoder_", "te1": "text_encoder_", "te2": "text_encoder_2_"}


def fold_kohya(model, lora, strength, changed):
    by_path = {name[:-len(".weight")].replace(".", "_"): name for name in model if name.endswith(".weight")}
    for key in lora:
        if not key.endswith(".lora_down.weight"):
            continue
        module = key[:-len(".lora_down.weight")]
        down, up = lora[key], lora[module + ".lora_up.weight"]
        rank = down.shape[0]
        alpha = float(lora[module + ".alpha"].reshape(-1)[0]) if module + ".alpha" in lora else rank
        component, path = module.split("_", 2)[1:]   # drop "lora_", keep the component
        targets = [t for p, t in by_path.items() if p == path or p.endswith("_" + path)]
        if len(targets) > 1:
            targets = [t for p, t in by_path.items() if p == COMPONENTS[component] + path]
        if len(targets) != 1:
            raise SystemExit(f"{module}: {len(targets)} targets")
        w = model[targets[0]]
        delta = (up.reshape(up.shape[0], rank) @ down.reshape(rank, -1)).reshape(w.shape)
        model[targets[0]] = w + strength * alpha / rank * delta
        changed.add(targets[0])


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
    model = read_model(sys.argv[1])
    original = {k: v.copy() for k, v in model.items()}
    merged = read_model(sys.argv[2])
    changed = set()
    for spec in sys.argv[3:]:
        path, strength = spec.rsplit(":", 1)
        if os.path.isdir(path):
            fold_peft(model, path, float(strength), changed)
        else:
            fold_kohya(model, read_safetensors(path), float(strength), changed)
    if set(model) != set(merged):
        raise SystemExit(f"tensor names differ: {sorted(set(model) ^ set(merged))[:5]}")
    print(json.dumps({
        "tensors": len(model),
        "changed": len(changed),
        "max_diff": max(float(np.max(np.abs(model[k] - merged[k]))) for k in model),
        "max_change": max(float(np.max(np.abs(model[k] - original[k]))) for k in changed) if changed else 0.0,
    }))


main()
