#!/usr/bin/python3
"""Independent numpy reading of a mergekit recipe, for the recipe suite.

Plans the recipe as mergekit's documentation and plan.py describe it, written without looking at EvoMerge's C#:
a `models:` recipe is one slice over every layer; output layers are the slices' layers in order, layer i of a
slice of n at t = i/(n-1) (t = 1 for a one-layer slice); the tensors before the layers come from the first
slice's sources at t = 0 and those after the layers from the last slice's sources at t = 0. Parameters resolve
source > slice > top level; a value is a scalar, a gradient (piecewise-linear in t) or a list of
{filter, value} (first filter that is a substring of the tensor name, or none, wins; no match falls through).
Each tensor is then merged by methods_reference.merge (float64).

Run: recipe_reference.py recipe.yml out.json [compat] [seed]; writes {tensor name: [values]}.
"""
import json
import os
import struct
import sys

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from methods_reference import merge  # noqa: E402

GLOBAL = {"t", "normalize", "rescale", "lambda", "int8_mask", "filter_wise", "select_topk", "row_wise",
          "nuslerp_flatten", "nuslerp_row_wise", "normalize_weights", "eps", "max_iter", "tol"}
NEEDS_BASE = {"task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties", "della",
              "della_linear", "slerp", "nuslerp", "model_stock", "sce", "nearswap", "arcee_fusion"}


def read_safetensors(folder):
    out = {}
    for file in sorted(f for f in os.listdir(folder) if f.endswith(".safetensors")):
        with open(os.path.join(folder, file), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "F32", "the suite's generated models are float32"
            a, b = info["data_offsets"]
            out[name] = np.frombuffer(data[a:b], dtype="<f4").astype(np.float64).reshape(info["shape"])
    return out


def ref(x):
    return x["model"] if isinstance(x, dict) else x


def interpolate(value, t):
    if not isinstance(value, list):
        return value
    if len(value) == 1:
        return value[0]
    pos = t * (len(value) - 1)
    i = min(int(np.floor(pos)), len(value) - 2)
    frac = pos - i
    return value[i] * (1 - frac) + value[i + 1] * frac


def lookup(levels, name, tensor, t):
    for params in levels:
        if not params or name not in params:
            continue
        v = params[name]
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for entry in v:
                if entry.get("filter") is None or entry["filter"] in tensor:
                    return interpolate(entry["value"], t)
            continue
        return interpolate(v, t)
    return None


def main(recipe_path, out_path, compat="mergekit", seed=0):
    with open(recipe_path) as f:
        r = yaml.safe_load(f)
    method = r["merge_method"]
    base = ref(r["base_model"]) if r.get("base_model") else None
    top = r.get("parameters") or {}
    cache = {}

    def weights(model):
        if model not in cache:
            cache[model] = read_safetensors(model)
        return cache[model]

    def layer_count(model):
        with open(os.path.join(model, "config.json")) as f:
            return json.load(f)["num_hidden_layers"]

    if "slices" in r:
        slices = [dict(sources=s["sources"], parameters=s.get("parameters") or {}) for s in r["slices"]]
    else:
        models = [m if isinstance(m, dict) else {"model": m} for m in r["models"]]
        if base and all(m["model"] != base for m in models):
            models.append({"model": base})
        n = layer_count(models[0]["model"])
        slices = [dict(sources=[dict(m, layer_range=[0, n]) for m in models], parameters={})]

    out = {}

    def plan(out_name, in_name_of, slice_, t):
        sources = slice_["sources"]
        base_src = next((s for s in sources if base and s["model"] == base), None) if method in NEEDS_BASE else None
        others = [s for s in sources if s is not base_src]
        if method == "passthrough":
            others = others[:1]
        g = {}
        for p in GLOBAL:
            v = lookup([slice_["parameters"], top], p, out_name, t)
            if v is not None:
                g[p] = v
        pm = []
        for s in others:
            d = {}
            for p in ("weight", "density", "gamma", "epsilon", "scale"):
                v = lookup([s.get("parameters") or {}, slice_["parameters"], top], p, in_name_of(s), t)
                if v is not None:
                    d[p] = v
            d.setdefault("weight", 1.0)
            pm.append(d)
        xs = [weights(s["model"])[in_name_of(s)] for s in others]
        b = weights(base_src["model"])[in_name_of(base_src)] if base_src else None
        shape = list(xs[0].shape)
        case = dict(method=method, globals=g, per_model=pm, shape=shape, compat=compat, seed=seed, name=out_name,
                    base=None if b is None else b.ravel(), models=[x.ravel() for x in xs])
        out[out_name] = [float(v) for v in np.asarray(merge(case)).ravel()]

    first = weights(slices[0]["sources"][0]["model"])
    for name in first:
        if name.startswith("model.embed_tokens"):
            plan(name, lambda s, name=name: name, slices[0], 0.0)
    layer = 0
    for slice_ in slices:
        start, end = slice_["sources"][0]["layer_range"]
        n = end - start
        for i in range(n):
            t = i / (n - 1) if n > 1 else 1.0
            prefix = f"model.layers.{start + i}."
            for name in weights(slice_["sources"][0]["model"]):
                if name.startswith(prefix):
                    suffix = name[len(prefix):]
                    plan(f"model.layers.{layer}.{suffix}",
                         lambda s, suffix=suffix, i=i: f"model.layers.{s['layer_range'][0] + i}.{suffix}", slice_, t)
            layer += 1
    last = weights(slices[-1]["sources"][0]["model"])
    for name in last:
        if name.startswith("model.norm") or name.startswith("lm_head"):
            plan(name, lambda s, name=name: name, slices[-1], 0.0)
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(sys.argv[3:4]), *([int(sys.argv[4])] if len(sys.argv) > 4 else []))
