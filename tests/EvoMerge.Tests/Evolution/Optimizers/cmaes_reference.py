"""Independent reference for EvoMerge's CMA-ES: the `cmaes` library (Debian python3-cmaes 0.9.1, the library
behind Optuna's CMA-ES sampler).

Prints one JSON object:
  "parameters": cmaes' internal strategy constants for n=10 (full CMA and sep-CMA), for the unit tests;
  "runs": per benchmark function, the evaluations each seed needed to reach the target (null = not reached);
  "sep_runs": the same for SepCMA (diagonal covariance) on the separable functions.

The benchmark setting is the one CmaesReferenceTests uses for EvoMerge: the unit box [0,1]^n mapped to
[-5,5]^n, optimum shifted off the start point, start at 0.5 (x = 0), sigma0 = 1/6 in unit coordinates, bounds
[0,1] with cmaes' own repair (resample, then clip). Evaluations are counted per generation (lambda per
generation, up to and including the generation whose best value is below the target).

Usage: /usr/bin/python3 cmaes_reference.py SEEDS
"""
import json
import math
import sys

import numpy as np
from cmaes import CMA, SepCMA

N = 10
TARGET = 1e-8
SHIFT = np.linspace(-2.0, 2.0, N)          # optimum of sphere, ellipsoid, Rastrigin (Rosenbrock's is at 1)
ELLIPSOID_SCALES = 10.0 ** (6.0 * np.arange(N) / (N - 1))
# Rastrigin is multimodal: with the default population (10) CMA-ES mostly ends in a local minimum. At 200, cmaes
# reached f < 1e-8 in 7 of 15 seeds; at 400, 6 of 8; at 800, 14 of 15 (EvoMerge: 15 of 15), so the medians of
# evaluations compare like for like (a failure counts as infinitely many evaluations).
RASTRIGIN_POPULATION = 800


def to_box(u):
    return 10.0 * u - 5.0


def sphere(u):
    z = to_box(u) - SHIFT
    return float(np.dot(z, z))


def ellipsoid(u):
    z = to_box(u) - SHIFT
    return float(np.dot(ELLIPSOID_SCALES, z * z))


def rosenbrock(u):
    x = to_box(u)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rastrigin(u):
    z = to_box(u) - SHIFT
    return float(10.0 * N + np.sum(z * z - 10.0 * np.cos(2.0 * math.pi * z)))


# name -> (function, population size or None for the default, evaluation budget)
FUNCTIONS = {
    "sphere": (sphere, None, 20000),
    "ellipsoid": (ellipsoid, None, 50000),
    "rosenbrock": (rosenbrock, None, 50000),
    "rastrigin": (rastrigin, RASTRIGIN_POPULATION, 200000),
}


def evaluations_to_target(f, popsize, budget, seed, algorithm=CMA):
    bounds = np.array([[0.0, 1.0]] * N)
    opt = algorithm(mean=np.full(N, 0.5), sigma=1.0 / 6, bounds=bounds, seed=seed, population_size=popsize)
    evaluations = 0
    while evaluations < budget:
        solutions = []
        for _ in range(opt.population_size):
            x = opt.ask()
            solutions.append((x, f(x)))
        evaluations += opt.population_size
        if min(v for _, v in solutions) < TARGET:
            return evaluations
        opt.tell(solutions)
        if opt.should_stop():
            return None
    return None


def parameters(opt):
    names = ["_mu", "_mu_eff", "_cc", "_c1", "_cmu", "_c_sigma", "_d_sigma", "_chi_n", "_popsize"]
    out = {name.lstrip("_"): float(getattr(opt, name)) for name in names}
    out["weights"] = [float(w) for w in opt._weights]
    return out


def main():
    seeds = int(sys.argv[1])
    mean = np.full(N, 0.5)
    result = {
        "parameters": {
            "full": parameters(CMA(mean=mean, sigma=1.0 / 6)),
            "sep": parameters(SepCMA(mean=mean, sigma=1.0 / 6)),
        },
        "runs": {},
        "sep_runs": {},
    }
    for name, (f, popsize, budget) in FUNCTIONS.items():
        result["runs"][name] = [evaluations_to_target(f, popsize, budget, seed) for seed in range(seeds)]
    for name in ["sphere", "ellipsoid"]:   # separable functions, where sep-CMA is meant to be used
        f, popsize, budget = FUNCTIONS[name]
        result["sep_runs"][name] = [evaluations_to_target(f, popsize, budget, seed, SepCMA) for seed in range(seeds)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
