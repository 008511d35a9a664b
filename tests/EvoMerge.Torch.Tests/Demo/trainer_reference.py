"""Independent reference for CausalLmTrainer: the same tiny model, data and settings trained by PyTorch.

Prints JSON {"losses": [...], "embedding": [[...]], "weight": [[...]], "bias": [...]} after training.
Run by CausalLmTrainerTests with Debian's /usr/bin/python3 (python3-torch).
"""
import json, math
import torch

V, D = 7, 5
torch.set_num_threads(1)
emb = torch.nn.Embedding(V, D)
lin = torch.nn.Linear(D, V)
with torch.no_grad():
    emb.weight.copy_(torch.tensor([[math.sin(1 + i * D + j) * 0.5 for j in range(D)] for i in range(V)]))
    lin.weight.copy_(torch.tensor([[math.cos(1 + i * D + j) * 0.5 for j in range(D)] for i in range(V)]))
    lin.bias.copy_(torch.tensor([0.1 * i - 0.3 for i in range(V)]))
model = torch.nn.Sequential(emb, lin)

a, b, c = [1, 2, 3, 4, 5], [6, 5, 4], [2, 2, 3, 1, 0, 6]
batches = [[a, b, c], [c, a]]
steps, warmup, peak, floor_frac, wd, clip = 8, 3, 0.05, 0.1, 0.1, 0.5


def lr_at(step):
    # Linear warmup to the peak over `warmup` steps, then a half cosine to floor_frac * peak at the last step.
    if step < warmup:
        return peak * (step + 1) / warmup
    floor = peak * floor_frac
    progress = min(1.0, (step - warmup) / max(1, steps - warmup - 1))
    return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (peak - floor)


opt = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.95), weight_decay=wd)
losses = []
for step in range(steps):
    seqs = batches[step % 2]
    width = max(len(s) for s in seqs) - 1
    x = torch.zeros(len(seqs), width, dtype=torch.long)
    y = torch.full((len(seqs), width), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, :len(s) - 1] = torch.tensor(s[:-1])
        y[i, :len(s) - 1] = torch.tensor(s[1:])
    for g in opt.param_groups:
        g["lr"] = lr_at(step)
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1), ignore_index=-100)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    losses.append(loss.item())

print(json.dumps({"losses": losses, "embedding": emb.weight.tolist(), "weight": lin.weight.tolist(), "bias": lin.bias.tolist()}))
