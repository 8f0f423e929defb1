#!/usr/bin/python3
"""Runs the PyTorch side of one case of scripts/bench-vs-pytorch and prints one JSON line:
{"seconds": the loop's wall time (per step for the training cases), "cpu": its CPU time (all threads),
"nfe": score evaluations or null, "params": trainable parameters or null, "nll": mean NLL in nats
(likelihood) or null, "threads": PyTorch's intra-op threads}.

Only the loop is timed: imports, building the mixture or the network, and a short untimed warm-up
(2 sampler steps, or 3 training steps) are outside the timer.

Usage: run_case.py --case NAME --threads K [--n N] [--steps S] [--points FILE.npy] [--train-steps S]
Cases: pc-8g, pc-5d, em-2d, ode-8g, lik-5d, unet, ddpmpp-tiny (see scripts/bench-vs-pytorch).
"""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import numpy as np  # noqa: E402
import torch

import nets
import samplers
import toy
from train import make_step

HERE = os.path.dirname(os.path.abspath(__file__))


def spec(name):
    return toy.Mixture.from_json(os.path.join(HERE, name))


CPU = [0.0]  # the CPU seconds (all threads) of the last timed call


def timed(fn):
    cpu, start = time.process_time(), time.perf_counter()
    out = fn()
    CPU[0] = time.process_time() - cpu
    return time.perf_counter() - start, out


def warm_up(sde, score, d):
    """Two untimed score evaluations on a small batch, so that the timed loop does not pay for
    PyTorch's first-call set-up (thread pool, allocator)."""
    x = sde.prior((64, d), torch.float32)
    for t in (0.5, 0.25):
        score(x, t)


def pc_case(mixture, a):
    sde = toy.VE(n=a.steps)
    score = mixture.score_fn(sde, torch.float32)
    warm_up(sde, score, mixture.d)
    with torch.no_grad():
        sec, (_, nfe) = timed(lambda: samplers.pc(sde, score, a.n, mixture.d, samplers.reverse_diffusion, "langevin"))
    return {"seconds": sec, "nfe": nfe}


def em_case(mixture, a):
    sde = toy.VP(n=a.steps)
    score = mixture.score_fn(sde, torch.float32)
    warm_up(sde, score, mixture.d)
    with torch.no_grad():
        sec, (_, nfe) = timed(lambda: samplers.pc(sde, score, a.n, mixture.d, samplers.euler_maruyama, "none"))
    return {"seconds": sec, "nfe": nfe}


def ode_case(mixture, a):
    sde = toy.VP()
    score = mixture.score_fn(sde, torch.float32)
    warm_up(sde, score, mixture.d)
    with torch.no_grad():
        sec, (_, nfe) = timed(lambda: samplers.ode_sample(sde, score, a.n, mixture.d))
    return {"seconds": sec, "nfe": nfe}


def likelihood_case(mixture, a):
    sde = toy.VE()
    score = mixture.score_fn(sde, torch.float64)  # the CLI computes toy likelihoods in float64
    points = torch.from_numpy(np.load(a.points)).double()
    warm_up(sde, mixture.score_fn(sde, torch.float32), mixture.d)
    sec, (logp, nfe) = timed(lambda: samplers.log_likelihood(sde, score, points))
    return {"seconds": sec, "nfe": nfe, "nll": -logp.mean().item()}


def train_case(net, a):
    step = make_step(net)
    for _ in range(3):
        step()
    sec, _ = timed(lambda: [step() for _ in range(a.train_steps)])
    CPU[0] /= a.train_steps
    return {"seconds": sec / a.train_steps, "params": nets.trainable_params(net)}


CASES = {
    "pc-8g": lambda a: pc_case(toy.Mixture.eight_gaussians(), a),
    "pc-5d": lambda a: pc_case(spec("mixture5d.json"), a),
    "em-2d": lambda a: em_case(spec("mixture2d.json"), a),
    "ode-8g": lambda a: ode_case(toy.Mixture.eight_gaussians(), a),
    "lik-5d": lambda a: likelihood_case(spec("mixture5d.json"), a),
    "unet": lambda a: train_case(nets.TutorialUNet(), a),
    "ddpmpp-tiny": lambda a: train_case(nets.DDPMpp(), a),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", required=True, choices=sorted(CASES))
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--points", help="lik-5d: the (n, 5) .npy points")
    p.add_argument("--train-steps", type=int, default=10)
    a = p.parse_args()
    if a.case == "lik-5d" and not a.points:
        p.error("--case lik-5d needs --points FILE.npy")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {"seconds": None, "nfe": None, "params": None, "nll": None}
    out.update(CASES[a.case](a))
    out["cpu"], out["threads"] = CPU[0], torch.get_num_threads()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
