#!/usr/bin/python3
"""Independent numpy reference for every merge method; writes methods_golden.json.

Each formula is written from the method's paper (or, for mergekit-only methods, mergekit's documented behaviour),
in float64, without looking at EvoMerge's C#. DARE/DELLA masks re-implement the documented counter-based stream,
version 2 (SplitMix64 finaliser over seed, FNV-1a of the tensor name, model index and element pair; 32 bits per
entry), so the random methods are checked entry by entry as well. Run: /usr/bin/python3 methods_reference.py
"""
import json
import numpy as np

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def key_for(seed, name):
    h = 14695981039346656037
    for c in name:
        h ^= ord(c)
        h = (h * 1099511628211) & M64
    return mix(seed ^ mix(h))


def uniforms(tensor_key, model, n):
    """Stream version 2: entry i takes 32 bits of the hash of counter i // 2, the low half when i is even."""
    s = mix((tensor_key + GOLDEN * (model + 1)) & M64)
    bits = [(mix((s + GOLDEN * (i // 2)) & M64) >> (32 * (i % 2))) & 0xFFFFFFFF for i in range(n)]
    return np.array(bits, dtype=np.float64) / float(1 << 32)


def l1_match(original, masked):
    before, after = np.abs(original).sum(), np.abs(masked).sum()
    return masked if before < 1e-7 or after < 1e-7 else masked * (before / after)


def keep_rank_window(d, lo, hi):
    """Keep entries whose ascending |d| rank (ties by position) is in [lo, hi)."""
    order = np.lexsort((np.arange(d.size), np.abs(d)))
    ranks = np.empty(d.size, dtype=int)
    ranks[order] = np.arange(d.size)
    return np.where((ranks >= lo) & (ranks < hi), d, 0.0)


def sparsify(kind, d, density, gamma, epsilon, rescale, compat, key, model, rows):
    n = d.size
    if kind is None or density >= 1:
        return d
    if density <= 0:
        return np.zeros_like(d)
    if kind == "magnitude":
        k = int(density * n)
        out = keep_rank_window(d, n - k, n)
        return l1_match(d, out) if rescale else out
    if kind == "outliers":
        target, top = int(density * n), int(gamma * n)
        bottom = n - target - top
        if bottom < 0:
            top += bottom
            bottom = 0
        out = keep_rank_window(d, bottom, n - top)
        return l1_match(d, out) if rescale else out
    u = uniforms(key, model, n)
    if kind == "random":
        keep = u < np.float32(density)
        if rescale and compat == "mergekit":
            return l1_match(d, np.where(keep, d, 0.0))
        return np.where(keep, d / density if rescale else d, 0.0)
    if kind == "della":
        cols = n // rows
        dr = d.reshape(rows, cols)
        p = np.empty_like(dr)
        for r in range(rows):
            order = np.lexsort((np.arange(cols), np.abs(dr[r])))
            ranks = np.empty(cols)
            ranks[order] = np.arange(cols)
            p[r] = density - epsilon + (ranks / (cols - 1) if cols > 1 else 0) * 2 * epsilon
        p = p.reshape(-1)
        keep = u < p
        if rescale and compat == "mergekit":
            return l1_match(d, np.where(keep, d, 0.0))
        return np.where(keep, d / p if rescale else d, 0.0)
    raise ValueError(kind)


FAMILY = {  # sparsification, sign consensus, default normalize, default rescale
    "task_arithmetic": (None, False, False, False),
    "ties": ("magnitude", True, True, False),
    "dare_ties": ("random", True, False, True),
    "dare_linear": ("random", False, False, True),
    "breadcrumbs": ("outliers", False, False, False),
    "breadcrumbs_ties": ("outliers", True, False, False),
    "della": ("della", True, True, True),
    "della_linear": ("della", False, False, True),
}


def task_arithmetic_family(method, base, models, g, pm, compat, seed, name, rows):
    kind, consensus, dn, dr = FAMILY[method]
    normalize, rescale, lam = g.get("normalize", dn), g.get("rescale", dr), g.get("lambda", 1.0)
    key = key_for(seed, name)
    w = np.array([p["weight"] for p in pm])
    deltas = []
    for m, (x, p) in enumerate(zip(models, pm)):
        d = sparsify(kind, x - base, p.get("density", 1.0), p.get("gamma", 0.01), p.get("epsilon", 0.15),
                     rescale, compat, key, m, rows)
        deltas.append(w[m] * d)
    wd = np.stack(deltas)
    if consensus:
        elected = np.where(wd.sum(0) >= 0, 1.0, -1.0)
        mask = np.sign(wd) == elected
        mixed = (wd * mask).sum(0)
        div = (w[:, None] * mask).sum(0)
        div[div == 0] = 1
    else:
        mixed = wd.sum(0)
        div = np.full_like(mixed, w.sum() if abs(w.sum()) >= 1e-8 else 1.0)
    if normalize:
        mixed = mixed / div
    return base + lam * mixed


def slerp(t, a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = 1.0 if na < 1e-8 or nb < 1e-8 else np.clip(a @ b / (na * nb), -1, 1)
    if abs(cos) > 0.9995:
        return (1 - t) * a + t * b
    th = np.arccos(cos)
    return np.sin((1 - t) * th) / np.sin(th) * a + np.sin(t * th) / np.sin(th) * b


def karcher(models, weights, max_iter=10, tol=1e-5):
    norms = np.array([np.linalg.norm(x) for x in models])
    u = [x / n for x, n in zip(models, norms)]
    w = np.array(weights) / np.sum(weights)
    mu = sum(wi * ui for wi, ui in zip(w, u))
    mu /= np.linalg.norm(mu)
    for _ in range(max_iter):
        step = np.zeros_like(mu)
        for wi, ui in zip(w, u):
            c = np.clip(mu @ ui, -1, 1)
            th = np.arccos(c)
            if th > 1e-12:
                step += wi * th / np.sin(th) * (ui - c * mu)
        sn = np.linalg.norm(step)
        if sn < tol:
            break
        mu = np.cos(sn) * mu + np.sin(sn) * step / sn
        mu /= np.linalg.norm(mu)
    return mu * (w @ norms)


def merge(case):
    m, g, pm = case["method"], case["globals"], case["per_model"]
    shape = case["shape"]
    rows = shape[0] if len(shape) >= 2 else 1
    base = np.array(case["base"]) if case["base"] is not None else None
    xs = [np.array(x) for x in case["models"]]
    if m in FAMILY:
        return task_arithmetic_family(m, base, xs, g, pm, case["compat"], case["seed"], case["name"], rows)
    if m == "linear":
        w = np.array([p["weight"] for p in pm])
        s = sum(wi * x for wi, x in zip(w, xs))
        return s / w.sum() if g.get("normalize", True) and abs(w.sum()) >= 1e-8 else s
    if m == "passthrough":
        return xs[0] * pm[0].get("scale", 1.0)
    if m == "slerp":
        if g.get("row_wise", False):
            return np.concatenate([slerp(g["t"], a, b) for a, b in zip(base.reshape(rows, -1), xs[0].reshape(rows, -1))])
        return slerp(g["t"], base, xs[0])
    if m == "nuslerp":
        t = pm[1]["weight"] / (pm[0]["weight"] + pm[1]["weight"])
        a, b = (xs[0] - base, xs[1] - base) if base is not None else (xs[0], xs[1])
        if g.get("nuslerp_flatten", True):
            r = slerp(t, a, b)
        elif g.get("nuslerp_row_wise", False):
            r = np.concatenate([slerp(t, x, y) for x, y in zip(a.reshape(rows, -1), b.reshape(rows, -1))])
        else:
            A, B = a.reshape(rows, -1), b.reshape(rows, -1)
            r = np.stack([slerp(t, A[:, c], B[:, c]) for c in range(A.shape[1])], axis=1).reshape(-1)
        return r + base if base is not None else r
    if m == "karcher":
        w = [1.0] * len(xs) if case["compat"] == "mergekit" else [p.get("weight", 1.0) for p in pm]
        return karcher(xs, w)
    if m == "multislerp":
        w = np.array([p["weight"] for p in pm])
        w = w / w.sum()
        v = [x - base for x in xs] if base is not None else xs
        norms = np.array([np.linalg.norm(x) for x in v])
        u = [x / (n + 1e-8) for x, n in zip(v, norms)]
        mean = sum(wi * ui for wi, ui in zip(w, u))
        mean /= np.linalg.norm(mean)
        tangent = sum(wi * (ui - (ui @ mean) * mean) for wi, ui in zip(w, u))
        tn = np.linalg.norm(tangent) + 1e-8
        r = (mean * np.cos(tn) + tangent * np.sin(tn) / tn) * (norms @ w)
        return r + base if base is not None else r
    if m == "model_stock":
        n = len(xs)
        R = rows if g.get("filter_wise", False) else 1
        out = []
        for r in range(R):
            sl = slice(r * (base.size // R), (r + 1) * (base.size // R))
            d = [x[sl] - base[sl] for x in xs]
            cos = np.mean([d[i] @ d[j] / (np.linalg.norm(d[i]) * np.linalg.norm(d[j])) for i in range(n) for j in range(i + 1, n)])
            t = n * cos / (1 + (n - 1) * cos)
            out.append(t * np.mean([x[sl] for x in xs], axis=0) + (1 - t) * base[sl])
        return np.concatenate(out)
    if m == "nearswap":
        d = np.abs(base - xs[0])
        with np.errstate(divide="ignore"):
            w = np.where(d == 0, 1.0, np.clip(g["t"] / d, 0, 1))
        return w * xs[0] + (1 - w) * base
    if m == "sce":
        d = np.stack([x - base for x in xs])
        topk = g.get("select_topk", 1.0)
        if topk < 1:
            var = d.var(0)
            k = int(topk * np.count_nonzero(var))
            keep = keep_rank_window(var, var.size - k, var.size) != 0
            d = d * keep
        energy = (d ** 2).sum(1) / d.shape[1]
        w = energy / energy.sum() if energy.sum() != 0 else np.full(len(xs), 1 / len(xs))
        elected = np.where(d.sum(0) >= 0, 1.0, -1.0)
        mask = np.sign(d) == elected
        ew = w[:, None] * mask
        div = ew.sum(0)
        div[div == 0] = 1
        return base + (d * ew).sum(0) / div
    if m == "arcee_fusion":
        cols = shape[-1]
        X, B = xs[0].reshape(-1, cols), base.reshape(-1, cols)
        sm = lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
        p, q = sm(X) + 1e-8, sm(B) + 1e-8
        kl = (p * np.log(p / q)).sum(1, keepdims=True)
        imp = (np.abs(X - B) * kl).reshape(-1)
        s = np.sort(imp)
        n = s.size
        thr = s[int(0.5 * (n - 1))] + 1.5 * (s[int(0.75 * (n - 1))] - s[int(0.25 * (n - 1))])
        return np.where(imp >= thr, xs[0], base)
    raise ValueError(m)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


rng = np.random.default_rng(20260101)
cases = []


def add(label, method, shape, n_models, globals_=None, per_model=None, with_base=True, compat="paper", seed=7,
        base=None, models=None):
    size = int(np.prod(shape))
    b = base if base is not None else (f32(rng.normal(size=size)) if with_base else None)
    xs = models if models is not None else [f32((b if b is not None else 0) + rng.normal(scale=0.5, size=size)) for _ in range(n_models)]
    case = dict(label=label, method=method, name="model.layers.0.w", shape=shape, compat=compat, seed=seed,
                globals=globals_ or {}, per_model=per_model or [{} for _ in xs],
                base=None if b is None else [float(v) for v in b], models=[[float(v) for v in x] for x in xs])
    case["expected"] = [float(v) for v in merge(case)]
    cases.append(case)


W3 = [{"weight": 0.5}, {"weight": 0.3}, {"weight": 0.8}]
add("linear three models", "linear", [4, 5], 3, per_model=W3, with_base=False)
add("linear unnormalized", "linear", [4, 5], 3, {"normalize": False}, W3, with_base=False)
add("linear weights summing to zero", "linear", [6], 2, per_model=[{"weight": 1}, {"weight": -1}], with_base=False)
add("linear one model", "linear", [6], 1, per_model=[{"weight": 2}], with_base=False)
add("task_arithmetic lambda", "task_arithmetic", [4, 5], 2, {"lambda": 0.5}, W3[:2])
add("task_arithmetic weights summing to zero normalized", "task_arithmetic", [8], 2, {"normalize": True},
    [{"weight": 1}, {"weight": -1}])
for d in (0.0, 0.4, 1.0):
    add(f"ties density {d}", "ties", [6, 7], 3, per_model=[dict(w, density=d) for w in W3])
add("ties one model", "ties", [6, 7], 1, per_model=[{"weight": 0.7, "density": 0.5}])
base = f32(np.zeros(4))
add("ties all agreeing signs", "ties", [4], 3, per_model=[{"weight": 1, "density": 1}] * 3, base=base,
    models=[f32([1, 2, -1, 0.5]), f32([2, 1, -3, 0.5]), f32([3, 3, -2, 1])])
add("ties all conflicting signs", "ties", [4], 2, per_model=[{"weight": 1, "density": 1}] * 2, base=base,
    models=[f32([1, -2, 3, -4]), f32([-2, 1, -1, 5])])
for compat in ("paper", "mergekit"):
    for d in (0.0, 0.3, 1.0):
        add(f"dare_ties density {d} {compat}", "dare_ties", [8, 16], 3, per_model=[dict(w, density=d) for w in W3], compat=compat)
    add(f"dare_linear {compat}", "dare_linear", [8, 16], 3, per_model=[dict(w, density=0.6) for w in W3], compat=compat)
    add(f"della {compat}", "della", [8, 16], 3, per_model=[dict(w, density=0.5, epsilon=0.2) for w in W3], compat=compat)
    add(f"della_linear {compat}", "della_linear", [8, 16], 2, per_model=[dict(w, density=0.4, epsilon=0.1) for w in W3[:2]], compat=compat)
add("breadcrumbs", "breadcrumbs", [10, 10], 2, per_model=[dict(w, density=0.6, gamma=0.1) for w in W3[:2]])
add("breadcrumbs_ties rescale", "breadcrumbs_ties", [10, 10], 3, {"rescale": True}, [dict(w, density=0.5, gamma=0.05) for w in W3])
add("slerp t=0.3", "slerp", [5, 6], 1, {"t": 0.3})
add("slerp row_wise", "slerp", [5, 6], 1, {"t": 0.7, "row_wise": True})
v = f32(rng.normal(size=12))
add("slerp parallel vectors", "slerp", [12], 1, {"t": 0.25}, base=v, models=[f32(3 * v)])
add("slerp antiparallel vectors", "slerp", [12], 1, {"t": 0.25}, base=v, models=[f32(-2 * v)])
add("slerp orthogonal unit vectors", "slerp", [2], 1, {"t": 0.5}, base=f32([1, 0]), models=[f32([0, 1])])
add("nuslerp with base", "nuslerp", [4, 6], 2, per_model=[{"weight": 1}, {"weight": 3}])
add("nuslerp no base row-wise", "nuslerp", [4, 6], 2, {"nuslerp_flatten": False, "nuslerp_row_wise": True},
    [{"weight": 2}, {"weight": 1}], with_base=False)
add("nuslerp no base column-wise", "nuslerp", [4, 6], 2, {"nuslerp_flatten": False}, [{"weight": 1}, {"weight": 1}], with_base=False)
add("multislerp with base", "multislerp", [4, 6], 3, per_model=W3)
add("karcher weighted", "karcher", [4, 6], 3, per_model=W3, with_base=False)
add("karcher mergekit ignores weights", "karcher", [4, 6], 3, per_model=W3, with_base=False, compat="mergekit")
add("model_stock", "model_stock", [4, 6], 3)
add("model_stock filter_wise", "model_stock", [4, 6], 2, {"filter_wise": True})
add("nearswap", "nearswap", [5, 6], 1, {"t": 0.3})
add("sce", "sce", [6, 6], 3)
add("sce select_topk", "sce", [6, 6], 3, {"select_topk": 0.5})
add("arcee_fusion", "arcee_fusion", [6, 8], 1)
add("passthrough scale", "passthrough", [3, 4], 1, per_model=[{"scale": 2.5}], with_base=False)
# Sizes that are not a multiple of the 16-entry vector exercise the scalar tail of the AVX-512 DARE mask.
add("dare_ties odd size density 0.3", "dare_ties", [5, 27], 2, per_model=[dict(w, density=0.3) for w in W3[:2]])
add("dare_ties odd size density 0.5", "dare_ties", [5, 27], 3, per_model=[dict(w, density=0.5) for w in W3])
add("dare_linear odd size density 0.77", "dare_linear", [3, 50], 2, per_model=[dict(w, density=0.77) for w in W3[:2]])

if __name__ == "__main__":
    with open("methods_golden.json", "w") as f:
        json.dump(cases, f, indent=0)
    print(len(cases), "cases")
