#!/usr/bin/env python3
"""Independent reader of a PEFT LoRA adapter folder, written from the format's description (no PEFT, no EvoMerge code).

usage: peft_reference.py <adapter-dir> <base-dir> <fine-tune-dir>

Parses adapter_config.json and adapter_model.safetensors by hand (header length, JSON header, raw little-endian
data), applies PEFT's rules to the base model: a module is targeted when its name equals a target_modules entry or
ends with "." + entry; its rank and alpha come from rank_pattern / alpha_pattern (a key matches a module name when
re.match(r"(.*\\.)?(key)$", name)), else r / lora_alpha; the folded weight is W + (alpha / rank) * B @ A. Tensors
stored as base_model.model.<tensor> (modules_to_save) replace the base's. Every step is float64 numpy.

Prints one JSON object: per targeted module its rank, the relative Frobenius error of the fold against the
fine-tune's difference ||W_fold - W_ft|| / ||W_ft - W_base||, and numpy's tail share for that rank,
sqrt(sum_{i >= rank} s_i^2 / sum s_i^2) of the exact SVD of W_ft - W_base; and the largest absolute difference
between the folded model and the fine-tune over all tensors. Exits 1 with a message on any format violation.
"""
import json
import os
import re
import struct
import sys

import numpy as np

PREFIX = "base_model.model."


def fail(message):
    print("format error: " + message, file=sys.stderr)
    sys.exit(1)


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
        dtype = entry["dtype"]
        if dtype == "F32":
            values = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dtype == "F16":
            values = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dtype == "BF16":
            values = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            fail(f"{path}: tensor {name} has unsupported dtype {dtype}")
        tensors[name] = values.reshape(entry["shape"])
    return tensors


def read_model(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
    else:
        shards = sorted(n for n in os.listdir(folder) if n.endswith(".safetensors"))
    tensors = {}
    for shard in shards:
        tensors.update(read_safetensors(os.path.join(folder, shard)))
    return tensors


def pattern_value(patterns, module, default):
    for key, value in patterns.items():
        if re.match(r"(.*\.)?(" + key + r")$", module):
            return value
    return default


def main():
    adapter_dir, base_dir, tuned_dir = sys.argv[1:4]
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        config = json.load(f)
    if config.get("peft_type") != "LORA":
        fail("peft_type is not LORA")
    r, alpha = config["r"], config["lora_alpha"]
    if not isinstance(r, int) or r < 1:
        fail(f"r = {r!r}")
    targets = config["target_modules"]
    if isinstance(targets, str):
        fail("target_modules as a regular expression is not expected here")
    rank_pattern = config.get("rank_pattern") or {}
    alpha_pattern = config.get("alpha_pattern") or {}
    to_save = config.get("modules_to_save") or []
    if config.get("use_dora") or config.get("use_rslora") or config.get("fan_in_fan_out"):
        fail("dora / rslora / fan_in_fan_out are not expected")

    adapter = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    base = read_model(base_dir)
    tuned = read_model(tuned_dir)
    for key in adapter:
        if not key.startswith(PREFIX):
            fail(f"adapter key {key} does not start with {PREFIX}")

    folded = dict(base)
    used = set()
    modules = {}
    for tensor in base:
        if not tensor.endswith(".weight") or base[tensor].ndim != 2:
            continue
        module = tensor[: -len(".weight")]
        if not any(module == t or module.endswith("." + t) for t in targets):
            continue
        key_a, key_b = PREFIX + module + ".lora_A.weight", PREFIX + module + ".lora_B.weight"
        if key_a not in adapter or key_b not in adapter:
            continue  # PEFT would leave B at its zero initialisation: no change
        rank = pattern_value(rank_pattern, module, r)
        scale = pattern_value(alpha_pattern, module, alpha) / rank
        a, b = adapter[key_a], adapter[key_b]
        out_features, in_features = base[tensor].shape
        if a.shape != (rank, in_features) or b.shape != (out_features, rank):
            fail(f"{module}: lora_A {a.shape} / lora_B {b.shape}, expected ({rank}, {in_features}) / ({out_features}, {rank})")
        folded[tensor] = base[tensor] + scale * (b @ a)
        used.update([key_a, key_b])
        delta = tuned[tensor] - base[tensor]
        norm = np.linalg.norm(delta)
        s = np.linalg.svd(delta, compute_uv=False)
        tail = float(np.sqrt(np.sum(s[rank:] ** 2) / np.sum(s ** 2))) if norm > 0 else 0.0
        error = float(np.linalg.norm(folded[tensor] - tuned[tensor]) / norm) if norm > 0 else float(np.linalg.norm(folded[tensor] - tuned[tensor]))
        modules[module] = {"rank": rank, "error": error, "tail": tail}
    for key, value in adapter.items():
        if key in used:
            continue
        name = key[len(PREFIX):]
        if ".lora_" in name:
            fail(f"{key} belongs to no targeted module")
        module = name.rsplit(".", 1)[0]
        if not any(module == m or module.endswith("." + m) for m in to_save):
            fail(f"{key} is stored whole but its module is not in modules_to_save")
        if name not in base or base[name].shape != value.shape:
            fail(f"{key} does not match a base tensor of the same shape")
        folded[name] = value
    max_diff = max(float(np.max(np.abs(folded[n] - tuned[n]))) if tuned[n].size else 0.0 for n in tuned)
    print(json.dumps({"modules": modules, "max_abs_diff": max_diff, "saved": sorted(k[len(PREFIX):] for k in adapter if k not in used)}))


main()
