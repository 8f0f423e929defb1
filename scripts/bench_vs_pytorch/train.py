"""One training step of an image score network, in PyTorch, as lib/train/train.go compiles it with
the defaults of train.Default for the VP SDE (what `scoresde probe --unet` and `scoresde train --sde
vp --batch 64` run):

  * batch drawing: 64 images from a pool of 256 random 28x28 images in [-1, 1] (the cost does not
    depend on the pixels), as probeUNet's data;
  * the DSM loss of lib/losses/losses.go with the VP parameterization (the network predicts the
    noise, score = -net(x_t, t)/s(t)) and the mean over pixels:
        t ~ U(1e-5, 1), z ~ N(0, I), x_t = m(t) x_0 + s(t) z,
        loss = mean_b mean_pixels (score(x_t, t) s(t) + z)^2;
  * global-norm gradient clipping at 1; Adam (beta 0.9, 0.999, eps 1e-8) at lr 2e-3 with a linear
    warm-up over 100 steps; an EMA of the weights at rate 0.999.
"""
import torch

from toy import VP


def make_step(net, batch=64, lr=2e-3, warmup=100, ema_rate=0.999, clip=1.0, pool=256):
    """Returns step() -> loss (a float) that runs one training step of net."""
    sde = VP()
    images = torch.rand(pool, 1, 28, 28) * 2 - 1
    params = [p for p in net.parameters() if p.requires_grad]
    ema = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    count = [0]

    def step():
        count[0] += 1
        for g in opt.param_groups:
            g["lr"] = lr * min(count[0] / warmup, 1.0) if warmup > 0 else lr
        x0 = images[torch.randint(0, pool, (batch,))]
        t = torch.rand(batch) * (1 - 1e-5) + 1e-5
        mean, std = sde.mean_std_tensor(t)
        z = torch.randn_like(x0)
        std4 = std[:, None, None, None]
        xt = mean[:, None, None, None] * x0 + std4 * z
        score = -net(xt, t) / std4
        loss = ((score * std4 + z) ** 2).mean(dim=(1, 2, 3)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, params):
                e.mul_(ema_rate).add_(p, alpha=1 - ema_rate)
        return loss.item()

    return step
