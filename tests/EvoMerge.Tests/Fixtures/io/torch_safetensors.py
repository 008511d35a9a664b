"""Independent reference for EvoMerge's safetensors I/O, written against the format's specification with PyTorch
and numpy only (the safetensors package is not installed): an 8-byte little-endian header length, a JSON header,
then the raw little-endian tensor bytes.

  write OUT.safetensors   writes a file of every dtype torch 1.13 has, plus OUT.expected.json holding each
                          tensor's values as torch converts them to float32 (hex of the float32 bytes).
                          torch_written.safetensors / .expected.json beside this script were made this way.
  check IN.safetensors    parses a file EvoMerge wrote; checks header padding and tiling, and that its tensors
                          'bf16' and 'f16' hold exactly torch's rounding of its float32 tensor 'source'.
"""
import json
import struct
import sys

import numpy as np
import torch

TORCH_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def raw_bytes(t):
    # numpy has no bfloat16: reinterpret its bits as int16 first.
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.contiguous().numpy().tobytes()


def write(path):
    torch.manual_seed(1234)
    specials = torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0, 1e-40, 65504.0, 3.0e38])
    tensors = {
        "model.embed_tokens.weight": torch.randn(8, 6),
        "f16": torch.cat([torch.randn(9), specials[:6]]).half().reshape(3, 5),
        "bf16": torch.cat([torch.randn(7), specials]).bfloat16().reshape(2, 7),
        "f64": torch.randn(5, dtype=torch.float64),
        "i64": torch.tensor([-(2**40), -1, 0, 1, 2**40]),
        "i32": torch.arange(-6, 6, dtype=torch.int32).reshape(3, 4),
        "i16": torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }
    header = {"__metadata__": {"format": "pt", "written_by": "torch_safetensors.py"}}
    data = b""
    expected = {}
    for name, t in tensors.items():
        b = raw_bytes(t)
        dtype = next(k for k, v in TORCH_DTYPES.items() if v == t.dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
        expected[name] = {"dtype": dtype, "shape": list(t.shape), "float32_hex": t.float().numpy().tobytes().hex()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # as Hugging Face pads: data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    with open(path.replace(".safetensors", ".expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


def check(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0, f"header length {n} is not a multiple of 8"
    header = json.loads(blob[8:8 + n])
    assert header["__metadata__"]["format"] == "pt", header["__metadata__"]
    data = blob[8 + n:]
    spans = sorted(tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__")
    end = 0
    for b, e in spans:
        assert b == end, f"gap or overlap at {b}"
        end = e
    assert end == len(data), "data section not fully covered"

    def load(name):
        info = header[name]
        b, e = info["data_offsets"]
        dtype = TORCH_DTYPES[info["dtype"]]
        if dtype == torch.bfloat16:
            return torch.from_numpy(np.frombuffer(data[b:e], dtype=np.int16).copy()).view(torch.bfloat16)
        return torch.from_numpy(np.frombuffer(data[b:e], dtype=torch.empty(0, dtype=dtype).numpy().dtype).copy())

    source = load("source")
    for name, dtype in (("bf16", torch.bfloat16), ("f16", torch.float16)):
        ours = load(name)
        theirs = source.to(dtype)
        as_int = lambda t: t.view(torch.int16).numpy()
        nan = torch.isnan(theirs).numpy()
        same = (as_int(ours) == as_int(theirs)) | (nan & torch.isnan(ours).numpy())
        if not same.all():
            i = int(np.argmin(same))
            print(f"{name}[{i}]: source {source[i].item()!r} -> EvoMerge {as_int(ours)[i]:#06x}, torch {as_int(theirs)[i]:#06x}")
            sys.exit(1)
    print("ok", len(source))


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
