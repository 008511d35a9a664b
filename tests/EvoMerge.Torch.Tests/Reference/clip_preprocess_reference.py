#!/usr/bin/python3
"""CLIPImageProcessor's pipeline with PIL and numpy (no transformers), as transformers' slow processor runs it.

Image.open(...).convert("RGB"); shortest edge -> `shortest` with the long side int(shortest * long / short);
PIL resize with BICUBIC; centre crop to crop x crop from floor((size - crop) / 2), zero-padding a smaller image;
float64 * 1/255 stored as float32; (x - mean) / std in float32; channels first.

usage: clip_preprocess_reference.py IMAGE SHORTEST CROP OUT_RGB OUT_F32
  OUT_RGB: the decoded RGB bytes (height x width x 3) before resizing; OUT_F32: little-endian float32 [3, crop, crop]
  make-samples DIR: writes generated RGB/RGBA/greyscale/palette PNGs and JPEGs of several sizes into DIR
"""
import math
import sys

import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def preprocess(path, shortest, crop):
    img = Image.open(path).convert("RGB")
    rgb = np.array(img)
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(shortest * long / short)
    size = (shortest, new_long) if w <= h else (new_long, shortest)
    arr = np.array(img.resize(size, resample=Image.BICUBIC))
    H, W = arr.shape[:2]
    nh, nw = max(crop, H), max(crop, W)
    padded = np.zeros((nh, nw, 3), dtype=arr.dtype)
    tp, lp = math.ceil((nh - H) / 2), math.ceil((nw - W) / 2)
    padded[tp:tp + H, lp:lp + W] = arr
    top, left = (H - crop) // 2 + tp, (W - crop) // 2 + lp
    arr = padded[top:top + crop, left:left + crop]
    x = (arr.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - MEAN) / STD
    return rgb, x.transpose(2, 0, 1)


def make_samples(out):
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:61, 0:97]
    smooth = np.stack([(xx * 2.6) % 256, (yy * 4.1) % 256, ((xx + yy) * 1.7) % 256], -1).astype(np.uint8)
    noisy = rng.integers(0, 256, size=(45, 30, 3), dtype=np.uint8)
    Image.fromarray(smooth).save(f"{out}/rgb_97x61.png")
    Image.fromarray(noisy).save(f"{out}/rgb_30x45.png")
    rgba = np.concatenate([noisy, rng.integers(0, 256, size=(45, 30, 1), dtype=np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(f"{out}/rgba_30x45.png")
    Image.fromarray(smooth[..., 0]).save(f"{out}/grey_97x61.png")
    Image.fromarray(smooth).quantize(colors=37).save(f"{out}/palette_97x61.png")
    pal = Image.fromarray(noisy).quantize(colors=16)
    pal.info["transparency"] = 3
    pal.save(f"{out}/palette_transparent_30x45.png", transparency=3)
    Image.fromarray(smooth).save(f"{out}/rgb_97x61.jpg", quality=90)
    Image.fromarray(smooth[..., 1]).save(f"{out}/grey_97x61.jpg", quality=85)
    Image.fromarray(np.ascontiguousarray(smooth[:, :20])).save(f"{out}/rgb_20x61_420.jpg", quality=75, subsampling=2)
    Image.fromarray(smooth).save(f"{out}/rgb_97x61.webp", lossless=True)


if __name__ == "__main__":
    if sys.argv[1] == "make-samples":
        make_samples(sys.argv[2])
    else:
        rgb, x = preprocess(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
        rgb.astype(np.uint8).tofile(sys.argv[4])
        x.astype("<f4").tofile(sys.argv[5])
