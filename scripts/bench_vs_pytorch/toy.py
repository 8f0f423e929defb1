"""Gaussian mixtures with their exact perturbed scores, and the VE and VP SDEs, in PyTorch.

Mirrors, for the side-by-side benchmark (scripts/bench-vs-pytorch):

  * toy/mixture.go, toy/spec.go   -- a mixture from its JSON spec: weights [K], means [K][d], and per
    component a scalar variance, a diagonal list or a full d x d matrix (a full matrix with zero
    off-diagonal entries counts as diagonal); full ones are kept as eigenpairs Sigma_k = U_k L_k U_k^T.
  * toy/presets.go                -- the "8gaussians" preset: 8 equal components on a circle of radius 4,
    isotropic variance 0.25.
  * toy/perturbed.go (graphParts) -- the exact score of p_t, whose components are
    N(m(t) mu_k, m(t)^2 Sigma_k + s(t)^2 I):
        score(x, t) = -sum_k pi_k(x) (m^2 Sigma_k + s^2 I)^-1 (x - m mu_k),
        pi_k(x)     = softmax_k[log w_k + log N(x; m mu_k, m^2 Sigma_k + s^2 I)],
    with the same two formulations as the Go code: for axis-aligned mixtures at one t for the batch,
    the logits and the score as two matrix products of [x^2, x, 1] (no [B, K, d] tensor); otherwise
    the [B, K, d] differences rotated into each component's eigenbasis.
  * lib/sde/processes.go          -- VE: sigma(t) = smin (smax/smin)^t, g(t) = sigma(t) sqrt(2 ln(smax/smin)),
    f = 0; VP: beta(t) = b0 + t (b1 - b0), f = -beta x / 2, g = sqrt(beta), log m(t) = -t^2 (b1-b0)/4 - t b0/2,
    s(t) = sqrt(1 - m^2); the discrete SMLD ladder sigma_i and the DDPM betas at i = floor(t (N-1)).
"""
import json
import math

import numpy as np
import torch


class VE:
    """Variance-exploding SDE (lib/sde/processes.go VE) with the reference defaults."""

    name, T, default_eps = "ve", 1.0, 1e-5

    def __init__(self, sigma_min=0.01, sigma_max=50.0, n=1000):
        self.smin, self.smax, self.N = sigma_min, sigma_max, n
        self.log_ratio = math.log(sigma_max / sigma_min)

    def sigma(self, t):
        return self.smin * math.exp(t * self.log_ratio)

    def mean_std(self, t):
        """m(t) and s(t) of the kernel p_0t(x_t | x_0) = N(m x_0, s^2 I), for a float t."""
        return 1.0, self.sigma(t)

    def drift_g2(self, x, t):
        """f(x, t) and g(t)^2."""
        return torch.zeros_like(x), (self.sigma(t) ** 2) * 2 * self.log_ratio

    def prior(self, shape, dtype):
        return self.smax * torch.randn(shape, dtype=dtype)

    def prior_logp(self, z):
        d = z.shape[1]
        return -0.5 * d * math.log(2 * math.pi * self.smax ** 2) - (z ** 2).sum(1) / (2 * self.smax ** 2)

    def discrete_sigma(self, i):
        """sigma_i of the SMLD ladder, sigma_{-1} = 0 (VE.discreteSigmaNode)."""
        if i < 0:
            return 0.0
        return self.sigma(i / (self.N - 1)) if self.N > 1 else self.smin


class VP:
    """Variance-preserving SDE (lib/sde/processes.go VP) with the reference defaults."""

    name, T, default_eps = "vp", 1.0, 1e-3

    def __init__(self, beta_min=0.1, beta_max=20.0, n=1000):
        self.b0, self.b1, self.N = beta_min, beta_max, n

    def beta(self, t):
        return self.b0 + t * (self.b1 - self.b0)

    def log_mean(self, t):
        return -0.25 * t * t * (self.b1 - self.b0) - 0.5 * t * self.b0

    def mean_std(self, t):
        lm = self.log_mean(t)
        return math.exp(lm), math.sqrt(-math.expm1(2 * lm))

    def mean_std_tensor(self, t):
        """m(t) and s(t) for a tensor of times (the training loss draws one t per point)."""
        lm = -0.25 * t ** 2 * (self.b1 - self.b0) - 0.5 * t * self.b0
        return torch.exp(lm), torch.sqrt(-torch.expm1(2 * lm))

    def drift_g2(self, x, t):
        b = self.beta(t)
        return -0.5 * b * x, b

    def prior(self, shape, dtype):
        return torch.randn(shape, dtype=dtype)

    def prior_logp(self, z):
        d = z.shape[1]
        return -0.5 * d * math.log(2 * math.pi) - (z ** 2).sum(1) / 2


class Mixture:
    """A Gaussian mixture: weights [K], means [K, d], eigenvalues [K, d] and eigenvectors [K, d, d]
    (the identity for diagonal components), as toy.Mixture stores them."""

    def __init__(self, weights, means, covs, name="mixture"):
        self.name = name
        self.weights = np.asarray(weights, dtype=np.float64)
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        if len(self.weights) != k or len(covs) != k:
            raise ValueError(f"{name}: {len(self.weights)} weights, {k} means and {len(covs)} covariances: give one of each per component")
        vals, vecs, self.aligned = [], [], True
        for c in covs:
            c = np.asarray(c, dtype=np.float64)
            if c.ndim == 0:
                c = np.full(d, float(c))
            if c.ndim == 2 and np.count_nonzero(c - np.diag(np.diag(c))) == 0:
                c = np.diag(c).copy()
            if c.ndim == 1:
                vals.append(c)
                vecs.append(np.eye(d))
            else:
                lam, u = np.linalg.eigh(c)  # columns of u are the eigenvectors, as U_k[i][j] = (u_j)_i
                vals.append(lam)
                vecs.append(u)
                self.aligned = False
        self.eigval, self.eigvec = np.stack(vals), np.stack(vecs)
        self.d, self.k = d, k

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            spec = json.load(f)
        return cls(spec["weights"], spec["means"], spec["covs"], spec.get("name", path))

    @classmethod
    def eight_gaussians(cls):
        means = [[4 * math.cos(k * math.pi / 4), 4 * math.sin(k * math.pi / 4)] for k in range(8)]
        return cls([1 / 8] * 8, means, [0.25] * 8, "8gaussians")

    def sample(self, n, rng):
        """n points [n, d] as float64 numpy (x = mu_k + U_k sqrt(L_k) z)."""
        ks = rng.choice(self.k, size=n, p=self.weights / self.weights.sum())
        z = rng.standard_normal((n, self.d)) * np.sqrt(self.eigval[ks])
        return self.means[ks] + np.einsum("nij,nj->ni", self.eigvec[ks], z)

    def score_fn(self, sde, dtype):
        """The exact score of the mixture perturbed by sde: a function (x [B, d], t float) -> [B, d]
        in dtype, for one t shared by the batch (what the samplers and ODE solvers pass)."""
        mu = torch.tensor(self.means, dtype=dtype)
        lam = torch.tensor(self.eigval, dtype=dtype)
        logw = torch.tensor(np.log(self.weights), dtype=dtype)
        u = torch.tensor(self.eigvec, dtype=dtype)
        const = self.d * math.log(2 * math.pi)
        d, k = self.d, self.k

        def aligned(x, t):
            m, s = sde.mean_std(t)
            v = m * m * lam + s * s                      # [K, d]
            iv = 1 / v
            mu_iv = mu * iv
            ck = logw - 0.5 * (m * m * (mu * mu_iv).sum(-1) + torch.log(v).sum(-1) + const)  # [K]
            w = torch.cat([(-0.5 * iv).T, (m * mu_iv).T, ck[None, :]], 0)                 # [2d+1, K]
            feats = torch.cat([x * x, x, torch.ones_like(x[:, :1])], 1)                   # [B, 2d+1]
            post = torch.softmax(feats @ w, -1)                                            # [B, K]
            a = post @ torch.cat([m * mu_iv, iv], 1)                                       # [B, 2d]
            return a[:, :d] - x * a[:, d:]

        def rotated(x, t):
            m, s = sde.mean_std(t)
            y = x[:, None, :] - m * mu[None]                                               # [B, K, d]
            proj = torch.einsum("bkd,kde->bke", y, u)                                      # eigenbasis
            var = m * m * lam + s * s                                                      # [K, d]
            white = proj / var
            logits = logw - 0.5 * ((proj * white).sum(-1) + torch.log(var).sum(-1) + const)
            post = torch.softmax(logits, -1)                                               # [B, K]
            prec = torch.einsum("bke,kde->bkd", white, u)                                  # (m^2 S + s^2 I)^-1 y
            return -(post[:, :, None] * prec).sum(1)

        return aligned if self.aligned else rotated
