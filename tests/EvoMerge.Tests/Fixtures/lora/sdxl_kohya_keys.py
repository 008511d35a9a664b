#!/usr/bin/env python3
"""Writes the module list of a kohya (sd-scripts) SDXL UNet LoRA with convolution modules, the layout of
full-UNet distillation LoRAs such as SDXL-Lightning's, from the public SDXL UNet structure (no model file).

usage: sdxl_kohya_keys.py > sdxl_kohya_unet_lora_keys.txt

The UNet is SDXL-base-1.0's, walked by ../diffusion/sdxl_structure.py (the one description of SDXL's structure in
the tests) at SDXL's real widths (block_out_channels 320/640/1280, cross_attention_dim 2048, 2816 addition-embedding
inputs) in the single-file naming that sd-scripts' SDXL UNet also uses (input_blocks / middle_block /
output_blocks). Its parameter count must be SDXL-base's published 2,567,463,684.

sd-scripts puts a LoRA on every Linear and 1x1 Conv2d inside a Transformer2DModel (proj_in, proj_out, attention
projections, feed-forward) and, with conv_dim set, on every Linear and Conv2d inside ResnetBlock2D (in_layers.2,
emb_layers.1, out_layers.3, skip_connection), Downsample2D (op) and Upsample2D (conv); not on the time and label
embeddings nor the input and output convolutions. A module's name is "lora_unet_" + its path with '.' -> '_'.

Output lines: "tensor <name> <shape>" for every UNet tensor of the single-file checkpoint, then
"<kohya module> <weight tensor> <weight shape>" for every LoRA module, e.g.
lora_unet_input_blocks_4_1_proj_in model.diffusion_model.input_blocks.4.1.proj_in.weight 640,640
"""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "diffusion"))
import sdxl_structure  # noqa: E402

PREFIX = "model.diffusion_model."
NOT_TARGETED = ("time_embed.", "label_emb.", "input_blocks.0.0.", "out.2.")


def main():
    config = dict(sdxl_structure.UNET, block_out_channels=[320, 640, 1280], cross_attention_dim=2048,
                  projection_class_embeddings_input_dim=2816, attention_head_dim=[5, 10, 20], norm_num_groups=32)
    tensors = [(t["name"], t["shape"]) for t in sdxl_structure.unet(config, ldm=True)]
    total = sum(math.prod(shape) for _, shape in tensors)
    assert total == 2_567_463_684, total
    for name, shape in tensors:
        print("tensor", PREFIX + name, ",".join(map(str, shape)))
    for name, shape in tensors:
        if name.endswith(".weight") and len(shape) in (2, 4) and not name.startswith(NOT_TARGETED):
            path = name[:-len(".weight")]
            print("lora_unet_" + path.replace(".", "_"), PREFIX + name, ",".join(map(str, shape)))


main()
