#!/usr/bin/python3
"""The UNet's tensor names in both namings, side by side, for SD 1.5, SD 2.1 and SDXL-base's public UNet configs
(structure kept, widths shrunk): sdxl_structure.unet walks the modules once per naming in the same order, so the
i-th LDM name and the i-th diffusers name are the same tensor. No rename table is involved.

usage: unet_namings.py   prints JSON {model: [[ldm name, diffusers name], ...]}
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdxl_structure as sdxl  # noqa: E402

# stable-diffusion-v1-5/unet/config.json and stabilityai/stable-diffusion-2-1/unet/config.json, widths over 64 (or 80).
SD15 = {"_class_name": "UNet2DConditionModel", "block_out_channels": [5, 10, 20, 20], "cross_attention_dim": 12,
        "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        "in_channels": 4, "out_channels": 4, "layers_per_block": 2, "transformer_layers_per_block": [1, 1, 1, 1],
        "use_linear_projection": False}
SD21 = dict(SD15, cross_attention_dim=16, use_linear_projection=True)

walks = {}
for model, config in (("sd15", SD15), ("sd21", SD21), ("sdxl", sdxl.UNET)):
    ldm, diffusers = sdxl.unet(config, ldm=True), sdxl.unet(config, ldm=False)
    assert len(ldm) == len(diffusers) and all(a["shape"] == b["shape"] for a, b in zip(ldm, diffusers))
    walks[model] = [[a["name"], b["name"]] for a, b in zip(ldm, diffusers)]
print(json.dumps(walks))
