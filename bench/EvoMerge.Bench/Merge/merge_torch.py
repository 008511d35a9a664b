#!/usr/bin/python3
"""PyTorch reference for the merge benchmark: the same dare_ties / slerp / linear arithmetic as EvoMerge on the same files.

usage: merge_torch.py {dare_ties|slerp|linear} OUT_DIR THREADS BASE A [B]
Reads each model's model.safetensors through numpy memmaps, merges tensor by tensor in float32 with torch ops
(dare_ties: Bernoulli(0.5) masks rescaled by 1/0.5, weight 0.5 each, TIES sign consensus, no normalization;
slerp: t = 0.5 over the flattened tensor; linear: the mean of all three), writes bf16 safetensors, and prints its peak RSS.
"""
import json
import os
import resource
import struct
import sys

import numpy as np
import torch

method, out_dir, threads, *folders = sys.argv[1:]
torch.set_num_threads(int(threads))
torch.manual_seed(1)


def open_model(folder):
    path = os.path.join(folder, "model.safetensors")
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, np.memmap(path, dtype=np.uint8, mode="r"), 8 + n


def read(model, name):
    header, data, start = model
    a, b = header[name]["data_offsets"]
    raw = np.array(data[start + a:start + b]).view(np.int16)
    return torch.from_numpy(raw).view(torch.bfloat16).float().reshape(header[name]["shape"])


def dare_ties(base, others):
    deltas = []
    for x in others:
        d = x - base
        keep = torch.rand(d.shape) < 0.5
        deltas.append(0.5 * torch.where(keep, d / 0.5, torch.zeros_like(d)))
    d = torch.stack(deltas)
    elected = torch.where(d.sum(0) >= 0, 1.0, -1.0)
    return base + (d * (torch.sign(d) == elected)).sum(0)


def slerp(base, others, t=0.5):
    a, b = base.flatten(), others[0].flatten()
    cos = torch.clamp(torch.dot(a, b) / (a.norm() * b.norm()), -1, 1)
    if cos.abs() > 0.9995:
        return (1 - t) * base + t * others[0]
    th = torch.acos(cos)
    return (torch.sin((1 - t) * th) * base + torch.sin(t * th) * others[0]) / torch.sin(th)


def linear(base, others):
    return (base + sum(others)) / (1 + len(others))


models = [open_model(f) for f in folders]
names = list(models[0][0].keys())
header, offset = {}, 0
for name in names:
    shape = models[0][0][name]["shape"]
    size = int(np.prod(shape)) * 2
    header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
    offset += size
blob = json.dumps(header).encode()
blob += b" " * ((8 - len(blob) % 8) % 8)
os.makedirs(out_dir, exist_ok=True)
merge = {"dare_ties": dare_ties, "slerp": slerp, "linear": linear}[method]
with open(os.path.join(out_dir, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(blob)))
    f.write(blob)
    for name in names:
        base = read(models[0], name)
        result = merge(base, [read(m, name) for m in models[1:]])
        f.write(result.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
usage = resource.getrusage(resource.RUSAGE_SELF)
print("peak_rss_bytes", usage.ru_maxrss * 1024)
print("cpu_seconds", usage.ru_utime + usage.ru_stime)
