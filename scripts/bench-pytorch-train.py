#!/usr/bin/python3
"""The step of BenchmarkTrainStep (lib/train/bench_test.go) in PyTorch, for a like-for-like speed
comparison on the same CPU: batch 512 of the 8-Gaussians mixture, VP SDE DSM loss (reduce mean,
t ~ U(1e-5, 1)), an MLP with 64 Gaussian Fourier time features (scale 16) and 3×128 swish hidden
layers, Adam (lr 2e-3) with global-norm clipping at 1 and an EMA of the weights (0.999).

Needs PyTorch (Debian: apt-get install python3-torch). Usage: scripts/bench-pytorch-train.py [threads]
"""
import math
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
B0, B1 = 0.1, 20.0


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("W", torch.randn(32) * 16)
        self.layers = torch.nn.ModuleList([torch.nn.Linear(2 + 64, 128), torch.nn.Linear(128, 128),
                                           torch.nn.Linear(128, 128), torch.nn.Linear(128, 2)])

    def forward(self, x, t):
        proj = 2 * math.pi * t[:, None] * self.W[None, :]
        h = torch.cat([x, torch.sin(proj), torch.cos(proj)], dim=1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = h * torch.sigmoid(h)
        return h


means = torch.tensor([[4 * math.cos(k * math.pi / 4), 4 * math.sin(k * math.pi / 4)] for k in range(8)])
net = Net()
ema = [p.detach().clone() for p in net.parameters()]
opt = torch.optim.Adam(net.parameters(), lr=2e-3)


def step():
    x0 = means[torch.randint(0, 8, (512,))] + 0.5 * torch.randn(512, 2)
    t = torch.rand(512) * (1 - 1e-5) + 1e-5
    log_mean = -0.25 * t ** 2 * (B1 - B0) - 0.5 * t * B0
    mean, std = torch.exp(log_mean)[:, None] * x0, torch.sqrt(1 - torch.exp(2 * log_mean))
    z = torch.randn_like(x0)
    xt = mean + std[:, None] * z
    score = -net(xt, t) / std[:, None]
    loss = ((score * std[:, None] + z) ** 2).mean(dim=1).mean()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        for e, p in zip(ema, net.parameters()):
            e.mul_(0.999).add_(p, alpha=0.001)
    return loss.item()


for _ in range(20):
    step()
n = 300
start = time.perf_counter()
for _ in range(n):
    step()
el = (time.perf_counter() - start) / n
print(f"pytorch {torch.__version__}, {threads} threads: one training step {el * 1e3:.2f} ms ({1 / el:.1f} steps/s)")
