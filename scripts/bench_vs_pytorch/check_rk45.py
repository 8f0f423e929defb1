#!/usr/bin/python3
"""Checks that samplers.rk45 takes the same steps as scipy's RK45 (solve_ivp, the references'
solver, which lib/sampling/ode.go rk45 reproduces): the probability-flow ODE of the 8-Gaussians
mixture under VP, from T = 1 to eps = 1e-3, rtol = atol = 1e-5, in float64 on 500 prior points.
Two comparisons: scipy given the same first step (the step control alone: accepted and rejected
steps must coincide, so the NFEs agree once scipy's 1 start-up evaluation and ours' 2 are taken
off), and scipy with its own start-up (equal too where scipy clips the first trial step to the
interval, as recent releases do and as the Go code does; older releases such as 1.10 do not, and
may then take a different first step). Exits 1 when the step control differs.
Needs scipy (Debian: apt-get install python3-scipy); without it, says so and exits 0.

Usage: scripts/bench_vs_pytorch/check_rk45.py
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import numpy as np  # noqa: E402
import torch

import samplers
import toy

try:
    import scipy
    from scipy.integrate import solve_ivp
except ImportError:
    print("scipy is not installed (Debian: apt-get install python3-scipy): nothing checked")
    sys.exit(0)

torch.manual_seed(0)
sde = toy.VP()
drift = samplers.flow_drift(sde, toy.Mixture.eight_gaussians().score_fn(sde, torch.float64))
x0 = torch.randn(500, 2, dtype=torch.float64)
ours, nfe = samplers.rk45(drift, x0, 1.0, 1e-3, 1e-5, 1e-5)


def flat(t, y):
    return drift(torch.from_numpy(y).reshape(x0.shape), t).reshape(-1).numpy()


h, _ = samplers.initial_step(drift, x0, 1.0, 1e-3, 1e-5, 1e-5)
same = solve_ivp(flat, (1.0, 1e-3), x0.reshape(-1).numpy(), rtol=1e-5, atol=1e-5, method="RK45", first_step=h)
diff = np.abs(same.y[:, -1] - ours.reshape(-1).numpy()).max()
ok = nfe - 2 == same.nfev - 1
print(f"step control, same first step: samplers.rk45 {(nfe - 2) // 6} steps, scipy {(same.nfev - 1) // 6}; "
      f"largest difference of x(eps) {diff:.1e}: {'same' if ok else 'DIFFERENT'}")
own = solve_ivp(flat, (1.0, 1e-3), x0.reshape(-1).numpy(), rtol=1e-5, atol=1e-5, method="RK45")
note = "same" if own.nfev == nfe else "differs: this scipy does not clip the first trial step to the interval"
print(f"with scipy {scipy.__version__}'s own start-up: NFE samplers.rk45 {nfe}, scipy {own.nfev} ({note})")
sys.exit(0 if ok else 1)
