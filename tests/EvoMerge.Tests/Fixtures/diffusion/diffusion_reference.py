#!/usr/bin/python3
"""Independent references for EvoMerge's diffusion support, written from the diffusers format and the SDXL
architecture (sdxl_structure.py), not from EvoMerge's C#.

  write DIR SEED        tiny SDXL-base checkpoints with real names: DIR/pipeline (a complete diffusers folder) and
                        DIR/sdxl.safetensors (the single-file layout), float32 values from SEED; DIR/labels.json
                        gives every tensor's component, block (IN00=0 … M00=9 … OUT08=18) and part
  merge SPEC OUT        numpy float64 block-weighted linear merge of pipelines as SPEC (JSON) says, written to OUT (JSON)
  load DIR              a minimal loader of a diffusers pipeline folder with python3-torch: model_index.json, each
                        component's config and weights by diffusers' file names; prints JSON {component: {name: [values]}}
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdxl_structure as sdxl  # noqa: E402

WEIGHT_FILE = {"diffusers": "diffusion_pytorch_model", "transformers": "model"}


def write_safetensors(path, tensors):
    """The safetensors format: u64 header length, JSON header (padded with spaces to 8 bytes), raw little-endian data."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dtype = {"F32": "<f4", "F16": "<f2"}[info["dtype"]]
        out[name] = np.frombuffer(data[a:b], dtype=dtype).astype(np.float64).reshape(info["shape"])
    return out


def values(items, rng):
    return [(it["name"], rng.standard_normal(it["shape"]).astype(np.float32)) for it in items]


def write(folder, seed):
    rng = np.random.default_rng(seed)
    pipe = os.path.join(folder, "pipeline")
    labels = {"pipeline": [], "single": []}
    index = {"_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.19.0.dev0",
             "force_zeros_for_empty_prompt": True, "add_watermarker": None,
             "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
             "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"]}
    for component, (config, items) in sdxl.pipeline_components().items():
        os.makedirs(os.path.join(pipe, component))
        with open(os.path.join(pipe, component, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        tensors = values(items, rng)
        stem = WEIGHT_FILE[index[component][0]]
        write_safetensors(os.path.join(pipe, component, stem + ".safetensors"), tensors)
        if component == "unet":   # a half-precision variant beside it, as the SDXL repository has: not the weights to read
            write_safetensors(os.path.join(pipe, component, stem + ".fp16.safetensors"), [(n, a * 0) for n, a in tensors])
        labels["pipeline"] += [dict(it, name=f"{component}.{it['name']}") for it in items]
    for tok in ("tokenizer", "tokenizer_2"):
        os.makedirs(os.path.join(pipe, tok))
        with open(os.path.join(pipe, tok, "vocab.json"), "w") as f:
            json.dump({"<|startoftext|>": 0, f"seed{seed}": 1}, f)
        with open(os.path.join(pipe, tok, "merges.txt"), "w") as f:
            f.write("#version: 0.2\n")
        with open(os.path.join(pipe, tok, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "CLIPTokenizer", "model_max_length": 77}, f)
    os.makedirs(os.path.join(pipe, "scheduler"))
    with open(os.path.join(pipe, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump({"_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 1000, "seed": seed}, f)
    with open(os.path.join(pipe, "model_index.json"), "w") as f:
        json.dump(index, f, indent=2)

    single = sdxl.single_file()
    write_safetensors(os.path.join(folder, "sdxl.safetensors"), values(single, rng))
    labels["single"] = single
    with open(os.path.join(folder, "labels.json"), "w") as f:
        json.dump(labels, f)


def interpolate(gradient, t):
    if len(gradient) == 1:
        return gradient[0]
    pos = t * (len(gradient) - 1)
    i = min(int(np.floor(pos)), len(gradient) - 2)
    return gradient[i] * (1 - (pos - i)) + gradient[i + 1] * (pos - i)


def checkpoint(source, layout):
    """{name: array} and {name: label} of one checkpoint: a pipeline's names prefixed by component, as in labels.json."""
    if layout == "single":
        return read_safetensors(os.path.join(source, "sdxl.safetensors")), {it["name"]: it for it in sdxl.single_file()}
    tensors, labels = {}, {}
    for component, (_, items) in sdxl.pipeline_components().items():
        stem = "diffusion_pytorch_model" if component in ("unet", "vae") else "model"
        for name, array in read_safetensors(os.path.join(source, "pipeline", component, stem + ".safetensors")).items():
            tensors[f"{component}.{name}"] = array
        labels.update({f"{component}.{it['name']}": it for it in items})
    return tensors, labels


def merge(spec_path, out_path):
    """spec: {layout: pipeline|single, sources: [folders written by 'write'], blocks: n, merged: [components],
    weights: [per source {attn: gradient, conv: gradient, outside: w}]}: a normalised linear merge of the merged
    components; a UNet tensor is weighted at t = block/(n-1) on its part's gradient, any other by 'outside'."""
    with open(spec_path) as f:
        spec = json.load(f)
    loaded = [checkpoint(s, spec["layout"]) for s in spec["sources"]]
    labels = loaded[0][1]
    out = {}
    for name in loaded[0][0]:
        label = labels[name]
        if label["component"] not in spec["merged"]:
            continue
        ws = []
        for w in spec["weights"]:
            if label["component"] == "unet" and label["block"] >= 0:
                ws.append(interpolate(w["attn" if label["part"] == "attn" else "conv"], label["block"] / (spec["blocks"] - 1)))
            else:
                ws.append(w["outside"])
        out[name] = (sum(w * t[0][name] for w, t in zip(ws, loaded)) / sum(ws)).ravel().tolist()
    with open(out_path, "w") as f:
        json.dump(out, f)


def load(folder):
    """What diffusers' from_pretrained needs of a folder: model_index.json names each component's library and class;
    a component folder holds config.json and its weights under the library's file name (or a sharded index)."""
    import torch

    with open(os.path.join(folder, "model_index.json")) as f:
        index = json.load(f)
    assert index["_class_name"] == "StableDiffusionXLPipeline", index["_class_name"]
    result = {}
    for component, entry in index.items():
        if component.startswith("_") or entry is None or not isinstance(entry, list):
            continue
        library, cls = entry
        path = os.path.join(folder, component)
        assert os.path.isdir(path), f"model_index.json names {component}, which has no folder"
        if library == "transformers" and cls == "CLIPTokenizer":
            for file in ("vocab.json", "merges.txt"):
                assert os.path.isfile(os.path.join(path, file)), f"{component}/{file} missing"
            result[component] = {"vocab": json.load(open(os.path.join(path, "vocab.json")))}
            continue
        config_name = "scheduler_config.json" if component == "scheduler" else "config.json"
        config = json.load(open(os.path.join(path, config_name)))
        if component == "scheduler":
            result[component] = {"config": config}
            continue
        if library == "diffusers":
            assert config["_class_name"] == cls, f"{component}/config.json is {config['_class_name']}, model_index says {cls}"
        else:
            assert cls in config["architectures"], f"{component}/config.json architectures {config['architectures']}, model_index says {cls}"
        stem = WEIGHT_FILE[library]
        index_file = os.path.join(path, stem + ".safetensors.index.json")
        files = ([os.path.join(path, s) for s in sorted(set(json.load(open(index_file))["weight_map"].values()))]
                 if os.path.isfile(index_file) else [os.path.join(path, stem + ".safetensors")])
        state = {}
        for file in files:
            for name, array in read_safetensors(file).items():
                state[name] = torch.from_numpy(array.astype(np.float32))
        # The state dict must be the one the config describes: same names, same shapes.
        expected = {"unet": lambda: sdxl.unet(config, ldm=False), "vae": lambda: sdxl.vae(config, ldm=False),
                    "text_encoder": lambda: sdxl.hf_clip(config, component),
                    "text_encoder_2": lambda: sdxl.hf_clip(config, component, projection=True)}[component]()
        shapes = {it["name"]: list(it["shape"]) for it in expected}
        assert set(state) == set(shapes), f"{component}: names differ from the config's architecture: " \
            f"{sorted(set(state) ^ set(shapes))[:5]}"
        for name, tensor in state.items():
            assert list(tensor.shape) == shapes[name], f"{component}.{name}: shape {list(tensor.shape)}, config says {shapes[name]}"
        result[component] = {name: tensor.flatten().tolist() for name, tensor in state.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "write":
        write(sys.argv[2], int(sys.argv[3]))
    elif command == "merge":
        merge(sys.argv[2], sys.argv[3])
    elif command == "load":
        load(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
