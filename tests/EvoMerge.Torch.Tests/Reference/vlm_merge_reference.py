#!/usr/bin/python3
"""Independent reading of a VLM+LLM merge (issue 15), numpy float64.

The rule, from the issue: the output is the VLM's folder layout; its language-model tensors are merged with the
plain LLMs' tensors of the same decoder name (transformers 4.x `language_model.model.X` / `language_model.lm_head.X`
or 5.x `model.language_model.X` / `lm_head.X` <-> the LLM's `model.X` / `lm_head.X`); every other VLM tensor
(vision tower, projector) is copied unchanged; in the embeddings and the head, the rows every source has are merged
as a tensor of that many rows and the rows only the VLM has are copied from it. Each merged tensor goes through
methods_reference.merge (the method formulas and the documented DARE mask stream, keyed by the output name).
Parameters: scalars only, per model > modules.text_decoder.parameters > top level.

usage:
  vlm_merge_reference.py make-llm VLM_DIR OUT_DIR --seed N --rows R [--noise 0.05]
      a plain Llama folder whose decoder is the VLM's language model plus Gaussian noise (first R rows of the
      embeddings and head), as a fine-tune sharing its base; config.json from the VLM's text_config
  vlm_merge_reference.py expect RECIPE.yml OUT.json [SEED]
      the merged tensors {name: [values]} of a recipe whose model references are folders
"""
import json
import os
import struct
import sys

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from methods_reference import merge  # noqa: E402

NEEDS_BASE = {"task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties", "della",
              "della_linear", "slerp", "nuslerp", "model_stock", "sce", "nearswap", "arcee_fusion"}
GLOBAL = {"t", "normalize", "rescale", "lambda", "int8_mask", "filter_wise", "select_topk", "row_wise"}


def read(folder):
    out = {}
    for file in sorted(f for f in os.listdir(folder) if f.endswith(".safetensors")):
        with open(os.path.join(folder, file), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "F32", name
            a, b = info["data_offsets"]
            out[name] = np.frombuffer(data[a:b], dtype="<f4").astype(np.float64).reshape(info["shape"])
    return out


def write(folder, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def is_vlm(folder):
    with open(os.path.join(folder, "config.json")) as f:
        return json.load(f).get("model_type") == "llava"


def decoder_name(name):
    """A VLM tensor's plain-LLM name, or None for the vision tower and projector."""
    for vlm, llm in (("language_model.model.", "model."), ("language_model.lm_head.", "lm_head."),
                     ("model.language_model.", "model."), ("lm_head.", "lm_head.")):
        if name.startswith(vlm):
            return llm + name[len(vlm):]
    return None


def make_llm(vlm_dir, out_dir, seed, rows, noise):
    rng = np.random.default_rng(seed)
    w = read(vlm_dir)
    lm = {}
    for name, t in w.items():
        d = decoder_name(name)
        if d is None:
            continue
        if d in ("model.embed_tokens.weight", "lm_head.weight"):
            t = t[:rows]
        lm[d] = t + rng.standard_normal(t.shape) * noise
    os.makedirs(out_dir, exist_ok=True)
    write(out_dir, lm)
    with open(os.path.join(vlm_dir, "config.json")) as f:
        tc = dict(json.load(f)["text_config"])
    tc.update(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=rows)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(tc, f, indent=1)


def expect(recipe_path, out_path, seed=0):
    with open(recipe_path) as f:
        r = yaml.safe_load(f)
    method = r["merge_method"]
    base = r.get("base_model")
    module = (r.get("modules") or {}).get("text_decoder") or {}
    models = [m if isinstance(m, dict) else {"model": m} for m in (module.get("models") or r.get("models"))]
    levels_top = [module.get("parameters") or {}, r.get("parameters") or {}]
    sources = ([base] if base else []) + [m["model"] for m in models]
    vlm = next(s for s in ([base] if base else []) + sources if is_vlm(s))
    weights = {s: read(s) for s in set(sources)}
    W = weights[vlm]
    use_base = method in NEEDS_BASE and base is not None
    others = [m for m in models if not (use_base and m["model"] == base)]

    def value(levels, p):
        for level in levels:
            if p in level:
                v = level[p]
                assert not isinstance(v, (list, dict)), "scalars only"
                return float(v)
        return None

    def tensor_of(model, name, dec):
        return weights[model][name] if is_vlm(model) else weights[model][dec]

    out = {}
    for name, t in W.items():
        dec = decoder_name(name)
        if dec is None:
            out[name] = t.ravel()
            continue
        xs = [tensor_of(m["model"], name, dec) for m in others]
        b = tensor_of(base, name, dec) if use_base else None
        rows = t.shape[0]
        vocab = dec in ("model.embed_tokens.weight", "lm_head.weight")
        shared = min([x.shape[0] for x in xs] + ([b.shape[0]] if b is not None else []) + [rows]) if vocab else rows
        g = {p: v for p in GLOBAL if (v := value(levels_top, p)) is not None}
        pm = []
        for m in others:
            d = {p: v for p in ("weight", "density", "gamma", "epsilon") if (v := value([m.get("parameters") or {}] + levels_top, p)) is not None}
            d.setdefault("weight", 1.0)
            pm.append(d)
        case = dict(method=method, globals=g, per_model=pm, shape=[shared] + list(t.shape[1:]), compat="paper", seed=seed,
                    name=name, base=None if b is None else b[:shared].ravel(), models=[x[:shared].ravel() for x in xs])
        merged = np.asarray(merge(case)).ravel()
        out[name] = np.concatenate([merged, t[shared:].ravel()]) if shared < rows else merged
    with open(out_path, "w") as f:
        json.dump({k: [float(v) for v in a] for k, a in out.items()}, f)


if __name__ == "__main__":
    if sys.argv[1] == "make-llm":
        opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
        make_llm(sys.argv[2], sys.argv[3], int(opts["--seed"]), int(opts["--rows"]), float(opts.get("--noise", "0.05")))
    elif sys.argv[1] == "expect":
        expect(sys.argv[2], sys.argv[3], *([int(sys.argv[4])] if len(sys.argv) > 4 else []))
    else:
        raise SystemExit(__doc__)
