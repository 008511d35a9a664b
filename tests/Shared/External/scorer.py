#!/usr/bin/env python3
"""A fitness command for tests: scorer.py MODE MODEL OUT [ARG].

Reads the model folder from the safetensors format as published (8-byte little-endian header length, JSON header,
raw little-endian data), independently of EvoMerge's reader. The score of a model is how close each tensor's mean
is to TARGET: item t scores -(mean_t - TARGET)^2 for tensor t (sorted by name), the score is the items' mean.

MODE  score       write the scores
      crash       write 30 lines to stderr, exit 3
      flaky       ARG is a counter file: odd calls crash, even calls score
      above       ARG is a threshold: crash when the model's mean is above it, else score
      malformed   write text that is not JSON, exit 0
      silent      exit 0 without writing OUT
      hang        ARG is a file: start a child `sleep 600`, write "<own pid> <child pid>" to ARG, then sleep
      slow        ARG is a folder: append a line to ARG.log, record our pid in ARG, sleep 0.3 s, score, remove the record
      argv        write our argument list to OUT as JSON (no scores)
"""
import json, os, struct, subprocess, sys, time
from array import array

TARGET = 1.3


def tensors(folder):
    if not os.path.isfile(os.path.join(folder, "config.json")):
        sys.exit(f"{folder}: no config.json, not a model folder")
    found = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            data = f.read()
        for key, info in header.items():
            if key == "__metadata__":
                continue
            if info["dtype"] != "F32":
                sys.exit(f"{name}: {key} is {info['dtype']}, this scorer reads F32")
            start, end = info["data_offsets"]
            values = array("f")
            values.frombytes(data[start:end])
            if sys.byteorder != "little":
                values.byteswap()
            found[key] = values
    if not found:
        sys.exit(f"{folder}: no tensors")
    return found


def score(model, out):
    items = [-(sum(v) / len(v) - TARGET) ** 2 for _, v in sorted(tensors(model).items())]
    with open(out, "w") as f:
        json.dump({"score": sum(items) / len(items), "items": items}, f)


def mean(model):
    ts = tensors(model)
    return sum(sum(v) for v in ts.values()) / sum(len(v) for v in ts.values())


def crash():
    for i in range(30):
        print(f"stderr line {i}", file=sys.stderr)
    sys.exit(3)


mode, model, out = sys.argv[1:4]
arg = sys.argv[4] if len(sys.argv) > 4 else None
if mode == "score":
    score(model, out)
elif mode == "crash":
    crash()
elif mode == "flaky":
    calls = int(open(arg).read()) + 1 if os.path.exists(arg) else 1
    open(arg, "w").write(str(calls))
    crash() if calls % 2 == 1 else score(model, out)
elif mode == "above":
    crash() if mean(model) > float(arg) else score(model, out)
elif mode == "malformed":
    open(out, "w").write("{score: oops")
elif mode == "silent":
    pass
elif mode == "hang":
    child = subprocess.Popen(["sleep", "600"])
    open(arg, "w").write(f"{os.getpid()} {child.pid}")
    time.sleep(600)
elif mode == "slow":
    with open(arg + ".log", "a") as log:
        log.write(f"{os.getpid()}\n")
    record = os.path.join(arg, str(os.getpid()))
    open(record, "w").close()
    time.sleep(0.3)
    score(model, out)
    os.remove(record)
elif mode == "argv":
    json.dump(sys.argv, open(out, "w"))
else:
    sys.exit(f"unknown mode {mode}")
