#!/usr/bin/env python3
"""Writes the module list of a kohya (sd-scripts) SDXL UNet LoRA with convolution modules, the layout of
full-UNet distillation LoRAs such as SDXL-Lightning's, from the public SDXL UNet structure (no model file).

usage: sdxl_kohya_keys.py > sdxl_kohya_unet_lora_keys.txt

The UNet is SDXL-base-1.0's (diffusers config: block_out_channels 320/640/1280, layers_per_block 2,
transformer_layers_per_block 1/2/10 with none at the first level, cross_attention_dim 2048, GEGLU feed-forward of
4x width, linear proj_in/proj_out, addition time embedding of 2816 inputs), in the SGM / single-file naming that
sd-scripts' SDXL UNet uses (input_blocks / middle_block / output_blocks). sd-scripts puts a LoRA on every Linear and
1x1 Conv2d inside a Transformer2DModel, and, with conv_dim set, on every Linear and Conv2d inside ResnetBlock2D,
Downsample2D and Upsample2D; the module's name is "lora_unet_" + its path with '.' replaced by '_'.

Each output line: <kohya module> <weight tensor in a single-file checkpoint> <weight shape>, e.g.
lora_unet_input_blocks_4_1_proj_in model.diffusion_model.input_blocks.4.1.proj_in.weight 640,640
Lines starting with "tensor" list every UNet weight and bias of the checkpoint (the LoRA's target), so a test can
build a scaled-down UNet with the real names.
"""

CONTEXT, TIME, ADM = 2048, 1280, 2816
PREFIX = "model.diffusion_model."

tensors = []   # (name, shape)
modules = []   # (path, shape) of LoRA targets


def param(path, shape, lora=False, bias=True):
    tensors.append((path + ".weight", shape))
    if bias:
        tensors.append((path + ".bias", [shape[0]]))
    if lora:
        modules.append((path, shape))


def norm(path, c):
    tensors.append((path + ".weight", [c]))
    tensors.append((path + ".bias", [c]))


def resblock(path, cin, cout):
    norm(path + ".in_layers.0", cin)
    param(path + ".in_layers.2", [cout, cin, 3, 3], lora=True)
    param(path + ".emb_layers.1", [cout, TIME], lora=True)
    norm(path + ".out_layers.0", cout)
    param(path + ".out_layers.3", [cout, cout, 3, 3], lora=True)
    if cin != cout:
        param(path + ".skip_connection", [cout, cin, 1, 1], lora=True)


def transformer(path, c, depth):
    norm(path + ".norm", c)
    param(path + ".proj_in", [c, c], lora=True)
    for i in range(depth):
        b = f"{path}.transformer_blocks.{i}"
        for attn, kv in (("attn1", c), ("attn2", CONTEXT)):
            param(f"{b}.{attn}.to_q", [c, c], lora=True, bias=False)
            param(f"{b}.{attn}.to_k", [c, kv], lora=True, bias=False)
            param(f"{b}.{attn}.to_v", [c, kv], lora=True, bias=False)
            param(f"{b}.{attn}.to_out.0", [c, c], lora=True)
        param(f"{b}.ff.net.0.proj", [8 * c, c], lora=True)
        param(f"{b}.ff.net.2", [c, 4 * c], lora=True)
        for n in (1, 2, 3):
            norm(f"{b}.norm{n}", c)
    param(path + ".proj_out", [c, c], lora=True)


def main():
    channels, depths = [320, 640, 1280], [0, 2, 10]
    param("time_embed.0", [TIME, 320])
    param("time_embed.2", [TIME, TIME])
    param("label_emb.0.0", [TIME, ADM])
    param("label_emb.0.2", [TIME, TIME])
    param("input_blocks.0.0", [320, 4, 3, 3])
    skips, block, c = [320], 1, 320
    for level, (cout, depth) in enumerate(zip(channels, depths)):
        for _ in range(2):
            resblock(f"input_blocks.{block}.0", c, cout)
            c = cout
            if depth:
                transformer(f"input_blocks.{block}.1", c, depth)
            skips.append(c)
            block += 1
        if level < len(channels) - 1:
            param(f"input_blocks.{block}.0.op", [c, c, 3, 3], lora=True)
            skips.append(c)
            block += 1
    resblock("middle_block.0", c, c)
    transformer("middle_block.1", c, depths[-1])
    resblock("middle_block.2", c, c)
    block = 0
    for level in reversed(range(len(channels))):
        cout, depth = channels[level], depths[level]
        for i in range(3):
            resblock(f"output_blocks.{block}.0", c + skips.pop(), cout)
            c = cout
            if depth:
                transformer(f"output_blocks.{block}.1", c, depth)
            if level > 0 and i == 2:
                param(f"output_blocks.{block}.{2 if depth else 1}.conv", [c, c, 3, 3], lora=True)
            block += 1
    norm("out.0", 320)
    param("out.2", [4, 320, 3, 3])
    assert not skips
    for name, shape in tensors:
        print("tensor", PREFIX + name, ",".join(map(str, shape)))
    for path, shape in modules:
        print("lora_unet_" + path.replace(".", "_"), PREFIX + path + ".weight", ",".join(map(str, shape)))


main()
