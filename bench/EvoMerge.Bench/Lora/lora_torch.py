#!/usr/bin/env python3
"""Side-by-side reference for the extract-lora benchmark: torch.svd_lowrank (the same randomised algorithm) on every
2-D non-embedding difference of two safetensors models, timed. usage: lora_torch.py <fine-tune> <base> <k> <niter> <threads>"""
import json, os, struct, sys, time
import numpy as np
import torch


def tensors(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    shards = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    for shard in shards:
        with open(os.path.join(folder, shard), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            data = np.memmap(f, dtype=np.uint8, mode="r", offset=8 + n)
        for name, e in header.items():
            if name != "__metadata__" and e["dtype"] == "BF16":
                a, b = e["data_offsets"]
                yield name, e["shape"], data[a:b]


tuned_dir, base_dir, k, niter, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
base = {name: raw for name, _, raw in tensors(base_dir)}
start = time.perf_counter()
for name, shape, raw in tensors(tuned_dir):
    if len(shape) != 2 or "embed" in name:
        continue
    def f32(r):
        return torch.from_numpy((np.frombuffer(r, dtype="<u2").astype(np.uint32) << 16).view(np.float32).reshape(shape))
    delta = f32(raw) - f32(base[name])
    torch.manual_seed(0)
    u, s, v = torch.svd_lowrank(delta, q=min(k, min(shape)), niter=niter)
print(f"{'torch.svd_lowrank (python3-torch)':<34}{time.perf_counter() - start:10.2f}")
