"""PyTorch baseline of `cargo xtask bench train`: one training step of the thesis pi-GAN as a
researcher would write it in PyTorch, timed on this machine's CPU.

The model and step follow docs/reference-code.md ("The pi-GAN decoder", "The autodecoder",
"The loss", "Optimisers and learning-rate schedule"), written for this benchmark (no code of
the thesis' repository): 8 FiLM-sine layers of width 256 with weight normalisation, a shared (gamma, beta) pair from a 256 -> 256 x 3 -> 512 LeakyReLU(0.2)
mapping network, a linear read-out; a latent table updated by plain SGD (lr 0.3); AdaBelief
(adabelief-pytorch 0.2.0, the reference's optimiser and settings) for the synthesis and the
mapping network; 2000 evenly spaced points per item with a random phase; the amplitude term
summed over points and averaged over the batch, plus the derivative term averaged over batch
and positions. `fd` takes the forward difference of the prediction on the sampled grid (the
reference code); `analytic` takes the network's time derivative by autograd with
`create_graph=True` (thesis eq. 4.7) against the target's forward difference.

The model's constants (omegas 1760/245, widths, mapping depth) are those of the trainer's
`pigan` configuration (`ModelConfig::named("pigan")`); the benchmark runs this script for that
model only.

Prints one JSON line: coord_samples_per_s (batch x points / the median step), seconds_per_step,
peak_rss_mib, threads, torch version.
"""

import argparse
import json
import math
import resource
import statistics
import time

import torch
from adabelief_pytorch import AdaBelief
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

CLIP_LEN = 16000
OMEGA_FIRST = 1760.0
OMEGA_HIDDEN = 245.0


class FilmSine(nn.Module):
    """sin((omega + gamma) * (W x + b) + beta), weight-normalised."""

    def __init__(self, n_in, n_out, omega, first):
        super().__init__()
        self.omega = omega
        linear = nn.Linear(n_in, n_out)
        with torch.no_grad():
            bound = 1.0 if first else math.sqrt(6.0 / n_in) / omega
            linear.weight.uniform_(-bound, bound)
            linear.bias.uniform_(0.0, 2.0 * math.pi)
        self.linear = weight_norm(linear)

    def forward(self, x, gamma, beta):
        return torch.sin((self.omega + gamma) * self.linear(x) + beta)


class PiGan(nn.Module):
    """The thesis pi-GAN: mapping network psi and synthesis network phi."""

    def __init__(self, latent=256, width=256, layers=8, mapping_depth=3):
        super().__init__()
        maps = []
        n_in = latent
        for _ in range(mapping_depth):
            maps += [nn.Linear(n_in, 256), nn.LeakyReLU(0.2)]
            n_in = 256
        out = nn.Linear(n_in, 2 * width)
        maps.append(out)
        for m in maps:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
        with torch.no_grad():
            out.weight.mul_(0.25)
        self.mapping = nn.Sequential(*maps)
        self.width = width
        self.net = nn.ModuleList(
            [FilmSine(1, width, OMEGA_FIRST, True)]
            + [FilmSine(width, width, OMEGA_HIDDEN, False) for _ in range(layers - 1)]
        )
        readout = nn.Linear(width, 1)
        with torch.no_grad():
            bound = math.sqrt(6.0 / width) / 30.0
            readout.weight.uniform_(-bound, bound)
        self.readout = weight_norm(readout)

    def forward(self, t, z):
        film = self.mapping(z).unsqueeze(1)
        gamma, beta = film[..., : self.width], film[..., self.width :]
        h = t
        for layer in self.net:
            h = layer(h, gamma, beta)
        return self.readout(h).squeeze(-1)


def clips(items):
    """Decaying harmonic tones, as the Rust side of the benchmark uses."""
    t = torch.arange(CLIP_LEN, dtype=torch.float64) / CLIP_LEN
    out = []
    for k in range(items):
        f0 = 220.0 * (1.0 + k / 8.0)
        tone = sum(torch.sin(2 * math.pi * f0 * h * t) / h for h in range(1, 5))
        out.append((0.3 * tone * torch.exp(-3.0 * t)).float())
    return torch.stack(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", choices=["fd", "analytic"], required=True)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    data = clips(args.batch)
    model = PiGan()
    latents = torch.randn(args.batch, 256) * 1e-3
    opt_net = AdaBelief(
        list(model.net.parameters()) + list(model.readout.parameters()),
        lr=1e-5, betas=(0.9, 0.999), eps=1e-16, weight_decouple=False,
        rectify=False, print_change_log=False,
    )
    opt_map = AdaBelief(
        model.mapping.parameters(), lr=1e-5, betas=(0.9, 0.999), eps=1e-16,
        weight_decouple=False, rectify=False, print_change_log=False,
    )
    stride = CLIP_LEN // args.points
    grid_dt = 2.0 * stride / CLIP_LEN

    def step():
        idx = torch.randperm(args.batch)
        phase = torch.randint(0, stride, (args.batch, 1))
        j = phase + stride * torch.arange(args.points).unsqueeze(0)
        t = (-1.0 + 2.0 * j.float() / CLIP_LEN).unsqueeze(-1)
        target = torch.gather(data[idx], 1, j)
        z = latents[idx].clone().requires_grad_(True)
        if args.form == "analytic":
            t.requires_grad_(True)
        pred = model(t, z)
        amplitude = ((pred - target) ** 2).sum(-1).mean()
        target_slope = target[:, 1:] - target[:, :-1]
        if args.form == "analytic":
            (dpred,) = torch.autograd.grad(pred.sum(), t, create_graph=True)
            pred_slope = dpred.squeeze(-1)[:, :-1] * grid_dt
        else:
            pred_slope = pred[:, 1:] - pred[:, :-1]
        loss = amplitude + ((pred_slope - target_slope) ** 2).mean()
        opt_net.zero_grad()
        opt_map.zero_grad()
        loss.backward()
        with torch.no_grad():
            latents[idx] = z - 0.3 * z.grad
        opt_net.step()
        opt_map.step()
        if not torch.isfinite(loss):
            raise SystemExit("non-finite loss in the PyTorch baseline")

    step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    per_step = statistics.median(times)
    print(json.dumps({
        "coord_samples_per_s": args.batch * args.points / per_step,
        "seconds_per_step": per_step,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
