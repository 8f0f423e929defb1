"""The samplers and the likelihood of the side-by-side benchmark, in PyTorch.

Mirrors (same math, same order of operations, same counts of score evaluations):

  * lib/sampling/pc.go, predictors.go, correctors.go -- the PC sampler on the grid
    linspace(T, eps, N), corrector first (the references' order), the last predictor mean returned
    (denoising on):
      Langevin corrector:  e = 2 alpha (snr * mean_b ||z_b|| / mean_b ||s_b||)^2,
                           x <- x + e s(x, t) + sqrt(2 e) z            (alpha = 1 for VE, 1 - beta_i for VP)
      reverse diffusion:   x <- x - f_i + G_i^2 s(x, t) + G_i z        (VE: f_i = 0, G_i^2 = sigma_i^2 - sigma_{i-1}^2)
      Euler-Maruyama:      x <- x + (f - g^2 s) dt + g sqrt(-dt) z,   dt = -T/N
  * lib/sampling/ode.go (rk45) -- adaptive Dormand-Prince 5(4) with scipy's step control: the RMS norm
    of the error over the whole batch scaled by atol + rtol max(|x|, |x_new|), scipy's initial step
    selection, safety 0.9, factors in [0.2, 10], no growth right after a rejection, the last step
    landing on t1; NFE = 2 (start-up) + 6 per attempted step. The state is float64, the score runs in
    the sample dtype, as the Go code (and the references' scipy on float64 arrays).
  * lib/sampling/ode.go (ODE) and solver.go (denoiseStep) -- the probability-flow ODE
    dx/dt = f - g^2 s / 2 from T to eps, then one noise-free reverse-diffusion step at eps (+1 NFE).
  * lib/likelihood/likelihood.go -- log p_0(x) = log p_T(z) + Delta(T) from the augmented ODE
    d[x, Delta]/dt = [f~, div f~] integrated from eps to T, the divergence exact (d backward passes).
"""
import math

import torch


def linspace(a, b, n):
    """lib/sampling/run.go Linspace: n points from a to b inclusive."""
    return [a] * n if n == 1 else [a + (b - a) * i / (n - 1) for i in range(n)]


def step_index(t, n):
    return math.floor(t * (n - 1))


def langevin_alpha(sde, t):
    if sde.name == "ve":
        return 1.0
    i = step_index(t, sde.N)
    return 1 - (sde.b0 / sde.N + i * (sde.b1 - sde.b0) / (sde.N * (sde.N - 1)))


def langevin(sde, score, x, t, snr):
    g = score(x, t)
    z = torch.randn_like(x)
    e = 2 * langevin_alpha(sde, t) * (snr * z.norm(dim=-1).mean() / g.norm(dim=-1).mean()) ** 2
    return x + e * g + torch.sqrt(2 * e) * z


def reverse_diffusion(sde, score, x, t):
    """VE's SMLD chain (the only reverse-diffusion predictor the cases use); returns (x, mean)."""
    i = step_index(t, sde.N)
    var = sde.discrete_sigma(i) ** 2 - sde.discrete_sigma(i - 1) ** 2
    mean = x + var * score(x, t)
    return mean + math.sqrt(var) * torch.randn_like(x), mean


def euler_maruyama(sde, score, x, t):
    dt = -sde.T / sde.N
    f, g2 = sde.drift_g2(x, t)
    mean = x + (f - g2 * score(x, t)) * dt
    return mean + math.sqrt(g2 * -dt) * torch.randn_like(x), mean


def pc(sde, score, n, d, predictor, corrector, snr=0.16, dtype=torch.float32):
    """Samples [n, d] by PC on linspace(T, eps, N) (N = sde.N); returns (samples, NFE)."""
    x = sde.prior((n, d), dtype)
    mean, nfe = x, 0
    for t in linspace(sde.T, sde.default_eps, sde.N):
        if corrector == "langevin":
            x = langevin(sde, score, x, t, snr)
            nfe += 1
        x, mean = predictor(sde, score, x, t)
        nfe += 1
    return mean, nfe


# Dormand-Prince 5(4): the tableau of scipy's RK45 (lib/sampling/ode.go dpC, dpA, dpE).
DP_C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1]
DP_A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
        [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]]
DP_E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40]


def rms(v):
    return torch.sqrt((v * v).mean()).item()


def initial_step(f, x, t0, t1, rtol, atol):
    """scipy's select_initial_step (as lib/sampling/ode.go, with the first trial step clipped to the
    interval as recent scipy releases do); returns (h, f(x, t0)) after 2 evaluations of f."""
    direction = math.copysign(1, t1 - t0)
    k1 = f(x, t0)
    scale = atol + rtol * x.abs()
    d0, d1 = rms(x / scale), rms(k1 / scale)
    h0 = 0.01 * d0 / d1 if d0 >= 1e-5 and d1 >= 1e-5 else 1e-6
    h0 = min(h0, abs(t1 - t0))
    k = f(x + direction * h0 * k1, t0 + direction * h0)
    d2 = rms((k - k1) / scale) / h0
    m = max(d1, d2)
    h1 = (0.01 / m) ** (1 / 5) if m > 1e-15 else max(1e-6, h0 * 1e-3)
    return min(100 * h0, h1), k1


def rk45(f, x, t0, t1, rtol, atol):
    """Integrates dx/dt = f(x, t) from t0 to t1; returns (x(t1), NFE)."""
    direction = math.copysign(1, t1 - t0)
    span = abs(t1 - t0)
    h, k1 = initial_step(f, x, t0, t1, rtol, atol)
    nfe, t, rejected = 2, t0, False
    while direction * (t1 - t) > 0:
        if h < 1e-12 * span:
            raise RuntimeError(f"RK45: step size underflow at t={t}")
        t_new = t + direction * h
        if direction * (t_new - t1) > 0:
            t_new = t1
        step = t_new - t
        h = abs(step)
        ks = [k1]
        for i in range(1, 7):
            acc = x
            for j, a in enumerate(DP_A[i]):
                if a != 0:
                    acc = acc + (a * step) * ks[j]
            if i == 6:
                x_new = acc
            ks.append(f(acc, t + DP_C[i] * step))
        nfe += 6
        err = sum(e * kj for e, kj in zip(DP_E, ks) if e != 0) * step
        err_norm = rms(err / (atol + rtol * torch.maximum(x.abs(), x_new.abs())))
        if not math.isfinite(err_norm):
            raise RuntimeError(f"RK45: the solution became non-finite at t={t}")
        if err_norm < 1:
            factor = 10.0 if err_norm == 0 else min(10.0, 0.9 * err_norm ** -0.2)
            if rejected:
                factor = min(1.0, factor)
            rejected = False
            t, x, k1 = t_new, x_new, ks[6]
            h *= factor
        else:
            h *= max(0.2, 0.9 * err_norm ** -0.2)
            rejected = True
    return x, nfe


def flow_drift(sde, score):
    """The probability-flow drift f - g^2 s / 2 as a function (x, t float) -> tensor."""
    def drift(x, t):
        f, g2 = sde.drift_g2(x, t)
        return f - 0.5 * g2 * score(x, t)
    return drift


def ode_sample(sde, score, n, d, rtol=1e-5, atol=1e-5, dtype=torch.float32):
    """Samples [n, d] by the probability-flow ODE with RK45 from T to eps, state in float64 and the
    score in dtype, then the VP noise-free reverse-diffusion step at eps; returns (samples, NFE)."""
    drift = flow_drift(sde, score)
    x = sde.prior((n, d), dtype).double()
    x, nfe = rk45(lambda y, t: drift(y.to(dtype), t).double(), x, sde.T, sde.default_eps, rtol, atol)
    x = x.to(dtype)
    # Denoising (VP's DDPM chain at eps): x - f_i + G_i^2 s with f_i = (sqrt(1 - beta_i) - 1) x, G_i^2 = beta_i.
    t = sde.default_eps
    beta = sde.b0 / sde.N + step_index(t, sde.N) * (sde.b1 - sde.b0) / (sde.N * (sde.N - 1))
    x = x - (math.sqrt(1 - beta) - 1) * x + beta * score(x, t)
    return x, nfe + 1


def log_likelihood(sde, score, points, eps=1e-5, rtol=1e-5, atol=1e-5):
    """log p_0 per point [n] (float64) by the augmented probability-flow ODE with the exact
    divergence; returns (logp, NFE)."""
    n, d = points.shape
    drift = flow_drift(sde, score)

    def aug(y, t):
        with torch.enable_grad():
            x = y[:, :d].detach().requires_grad_(True)
            fx = drift(x, t)
            div = torch.zeros(n, dtype=y.dtype)
            for i in range(d):  # one backward pass per dimension: d f_i / d x_i
                g, = torch.autograd.grad(fx[:, i].sum(), x, retain_graph=i < d - 1)
                div = div + g[:, i]
        return torch.cat([fx.detach(), div[:, None]], 1)

    y0 = torch.cat([points, torch.zeros(n, 1, dtype=points.dtype)], 1)
    y, nfe = rk45(aug, y0, eps, sde.T, rtol, atol)
    return sde.prior_logp(y[:, :d]) + y[:, d], nfe
