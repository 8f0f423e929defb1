"""The two image score networks of the side-by-side benchmark, in PyTorch (NCHW).

  * TutorialUNet mirrors lib/nets/unet.go (NewTutorialUNet), itself the ScoreNet of Song's MNIST
    tutorial notebook: Gaussian Fourier features of t (256, scale 30, frozen) -> dense -> swish; four
    3x3 convolutions without bias or padding, strides 1, 2, 2, 2 (28 -> 26 -> 12 -> 5 -> 2), each plus a
    dense projection of the embedding, GroupNorm (4 groups first, then 32) and swish; three transposed
    convolutions (output padding 0, 1, 1) with skip concatenations, and a last transposed convolution
    with bias to 1 channel. 1,115,297 trainable parameters.
  * DDPMpp mirrors lib/nets/ncsnpp.go (the reference's models/ncsnpp.py with BigGAN residual blocks,
    no FIR, no progressive paths) at the "ddpmpp-mnist-tiny" preset (DDPMppMNISTTiny): nf 8,
    ch_mult (1, 2, 2), 1 residual block per level, attention at 7x7 and in the middle, skip rescale
    by 1/sqrt(2), GroupNorm with min(C/4, 32) groups and eps 1e-6, the DDPM sinusoidal embedding of
    999 t through two dense layers, 28x28x1 centered data. 80,417 trainable parameters. Dropout is
    left out: the Go trainer calls the deterministic Forward.

PyTorch's default initialization is kept (the cost of a step does not depend on the weights).
"""
import math

import torch
from torch import nn

swish = nn.functional.silu


class TutorialUNet(nn.Module):
    def __init__(self, channels=(32, 64, 128, 256), embed_dim=256, scale=30.0):
        super().__init__()
        c, e = channels, embed_dim
        self.register_buffer("fourier", torch.randn(e // 2) * scale)  # frozen, as embed/fourier
        self.embed = nn.Linear(e, e)
        self.convs = nn.ModuleList([nn.Conv2d(1, c[0], 3, 1, bias=False), nn.Conv2d(c[0], c[1], 3, 2, bias=False),
                                    nn.Conv2d(c[1], c[2], 3, 2, bias=False), nn.Conv2d(c[2], c[3], 3, 2, bias=False)])
        self.tconvs = nn.ModuleList([nn.ConvTranspose2d(c[3], c[2], 3, 2, bias=False),
                                     nn.ConvTranspose2d(2 * c[2], c[1], 3, 2, bias=False, output_padding=1),
                                     nn.ConvTranspose2d(2 * c[1], c[0], 3, 2, bias=False, output_padding=1)])
        widths = list(c) + [c[2], c[1], c[0]]
        self.denses = nn.ModuleList([nn.Linear(e, w) for w in widths])
        self.norms = nn.ModuleList([nn.GroupNorm(4 if i == 0 else 32, w) for i, w in enumerate(widths)])
        self.tconv1 = nn.ConvTranspose2d(2 * c[0], 1, 3, 1)

    def forward(self, x, t):
        proj = 2 * math.pi * t[:, None] * self.fourier[None, :]
        embed = swish(self.embed(torch.cat([torch.sin(proj), torch.cos(proj)], 1)))

        def block(i, h):
            return swish(self.norms[i](h + self.denses[i](embed)[:, :, None, None]))

        h, skips = x, []
        for i, conv in enumerate(self.convs):
            h = block(i, conv(h))
            skips.append(h)
        for i, tconv in enumerate(self.tconvs):
            if i > 0:
                h = torch.cat([h, skips[3 - i]], 1)
            h = block(4 + i, tconv(h))
        return self.tconv1(torch.cat([h, skips[0]], 1))


def group_norm(c):
    return nn.GroupNorm(min(c // 4, 32), c, eps=1e-6)


class ResBlock(nn.Module):
    """ResnetBlockBigGANpp (ncsnpp.go resblockBigGAN): GroupNorm, swish, optional 2x nearest upsampling
    or 2x2 average pooling of both paths, 3x3 conv, + dense(temb), GroupNorm, swish, 3x3 conv, a 1x1
    conv on the skip path when the width or the resolution changes, (x + h)/sqrt(2)."""

    def __init__(self, cin, cout, temb, up=False, down=False):
        super().__init__()
        self.up, self.down = up, down
        self.norm0, self.conv0 = group_norm(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.dense = nn.Linear(temb, cout)
        self.norm1, self.conv1 = group_norm(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout or up or down else None

    def forward(self, x, temb):
        h = swish(self.norm0(x))
        if self.up:
            h, x = nn.functional.interpolate(h, scale_factor=2.0), nn.functional.interpolate(x, scale_factor=2.0)
        elif self.down:
            h, x = nn.functional.avg_pool2d(h, 2), nn.functional.avg_pool2d(x, 2)
        h = self.conv0(h) + self.dense(temb)[:, :, None, None]
        h = self.conv1(swish(self.norm1(h)))
        if self.skip is not None:
            x = self.skip(x)
        return (x + h) / math.sqrt(2)


class Attention(nn.Module):
    """AttnBlockpp (ncsnpp.go attention): GroupNorm, 1x1 q, k, v, softmax over the positions of
    q.k/sqrt(C), a 1x1 output layer, (x + h)/sqrt(2)."""

    def __init__(self, c):
        super().__init__()
        self.norm = group_norm(c)
        self.q, self.k, self.v, self.out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x, temb=None):
        b, c, hh, ww = x.shape
        h = self.norm(x)
        q, k, v = (f(h).reshape(b, c, hh * ww) for f in (self.q, self.k, self.v))
        w = torch.softmax(torch.einsum("bcq,bck->bqk", q, k) / math.sqrt(c), -1)
        o = torch.einsum("bqk,bck->bcq", w, v).reshape(b, c, hh, ww)
        return (x + self.out(o)) / math.sqrt(2)


class DDPMpp(nn.Module):
    """The walk of ncsnpp.go run() for BigGAN blocks without progressive paths."""

    def __init__(self, nf=8, ch_mult=(1, 2, 2), num_res_blocks=1, attn_resolutions=(7,), size=28, channels=1):
        super().__init__()
        self.nf = nf
        temb = 4 * nf
        self.temb0, self.temb1 = nn.Linear(nf, temb), nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(channels, nf, 3, 1, 1)
        widths = [size >> i for i in range(len(ch_mult))]
        last = len(ch_mult) - 1
        self.down, hs_ch, cin = nn.ModuleList(), [nf], nf
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(cin, nf * mult, temb))
                cin = nf * mult
                if widths[level] in attn_resolutions:
                    self.down.append(Attention(cin))
                hs_ch.append(cin)
            if level != last:
                self.down.append(ResBlock(cin, cin, temb, down=True))
                hs_ch.append(cin)
        self.mid = nn.ModuleList([ResBlock(cin, cin, temb), Attention(cin), ResBlock(cin, cin, temb)])
        self.up = nn.ModuleList()
        for level in range(last, -1, -1):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(cin + hs_ch.pop(), nf * ch_mult[level], temb))
                cin = nf * ch_mult[level]
            if widths[level] in attn_resolutions:
                self.up.append(Attention(cin))
            if level != 0:
                self.up.append(ResBlock(cin, cin, temb, up=True))
        self.norm_out, self.conv_out = group_norm(cin), nn.Conv2d(cin, channels, 3, 1, 1)
        half = nf // 2
        self.register_buffer("freqs", torch.exp(-torch.arange(half) * math.log(10000) / max(half - 1, 1)))

    def forward(self, x, t):
        arg = 999 * t[:, None] * self.freqs[None, :]
        temb = self.temb1(swish(self.temb0(torch.cat([torch.sin(arg), torch.cos(arg)], 1))))
        temb = swish(temb)
        hs = [self.conv_in(x)]
        for m in self.down:
            if isinstance(m, Attention):
                hs[-1] = m(hs[-1])           # attention follows its residual block in place
            else:
                hs.append(m(hs[-1], temb))
        h = hs[-1]
        for m in self.mid:
            h = m(h, temb)
        for m in self.up:
            if isinstance(m, ResBlock) and not m.up:
                h = m(torch.cat([h, hs.pop()], 1), temb)
            else:
                h = m(h, temb)
        return self.conv_out(swish(self.norm_out(h)))


def trainable_params(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
