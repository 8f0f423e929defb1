#!/usr/bin/python3
"""The loop of BenchmarkPCStep / BenchmarkPC1000 (lib/sampling/bench_test.go) in PyTorch, for a
like-for-like speed comparison on the same CPU: VE SDE (σmin 0.01, σmax 50, N 1000), reverse
diffusion predictor + one Langevin corrector step (snr 0.16), the exact score of the 8-Gaussians
mixture, 10,000 2-D points, float32.

Needs PyTorch (Debian: apt-get install python3-torch). Usage: scripts/bench-pytorch-pc.py [threads]
"""
import math
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(1)
B, N, SNR = 10_000, 1000, 0.16
SMIN, SMAX = 0.01, 50.0

means = torch.tensor([[4 * math.cos(k * math.pi / 4), 4 * math.sin(k * math.pi / 4)] for k in range(8)])
var0 = 0.25  # isotropic component variance
logw = torch.full((8,), math.log(1 / 8))


def sigma(t):
    return SMIN * (SMAX / SMIN) ** t


def score(x, t):
    """Exact score of the mixture perturbed by the VE kernel: components N(μ_k, (v0 + σ²)I)."""
    v = var0 + sigma(t) ** 2
    diff = x[:, None, :] - means[None, :, :]                      # [B, K, d]
    logits = logw - 0.5 * (diff.pow(2).sum(-1) / v + 2 * math.log(2 * math.pi * v))
    post = torch.softmax(logits, dim=-1)                          # [B, K]
    return -(post[:, :, None] * diff).sum(1) / v


def discrete_sigmas(t):
    i = int(t * (N - 1))
    s = SMIN * (SMAX / SMIN) ** (i / (N - 1))
    prev = 0.0 if i == 0 else SMIN * (SMAX / SMIN) ** ((i - 1) / (N - 1))
    return s, prev


@torch.no_grad()
def pc_step(x, t):
    # Langevin corrector (alpha = 1 for VE).
    g = score(x, t)
    z = torch.randn_like(x)
    eps = 2 * (SNR * z.norm(dim=-1).mean() / g.norm(dim=-1).mean()) ** 2
    x = x + eps * g + torch.sqrt(2 * eps) * z
    # Reverse diffusion predictor.
    s, prev = discrete_sigmas(t)
    var = s * s - prev * prev
    x_mean = x + var * score(x, t)
    return x_mean + math.sqrt(var) * torch.randn_like(x), x_mean


x = SMAX * torch.randn(B, 2)
for t in (0.5, 0.5):  # warm-up
    pc_step(x, t)
reps = 200
start = time.perf_counter()
for _ in range(reps):
    pc_step(x, 0.5)
step_s = (time.perf_counter() - start) / reps
start = time.perf_counter()
x = SMAX * torch.randn(B, 2)
for t in torch.linspace(1.0, 1e-5, N).tolist():
    x, x_mean = pc_step(x, t)
run_s = time.perf_counter() - start
print(f"pytorch {torch.__version__}, {threads} threads: one PC step {step_s * 1e3:.2f} ms "
      f"({B / step_s:,.0f} points·steps/s); 1000-step run {run_s:.2f} s ({B * N / run_s:,.0f} points·steps/s)")
