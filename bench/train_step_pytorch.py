#!/usr/bin/env python3
"""The PyTorch reference for bench/train_step_bench.cc: the same DCGAN-32
(ngf = ndf = 64, nz = 100, 1 channel, no conv bias), the same iteration (one
G forward; D on real and on detached fakes; G step through D on the same
fakes), the same losses and Adam settings, batch 64, on real Fashion-MNIST
padded to 32x32. Prints images/s as JSON.

    /usr/bin/python3 bench/train_step_pytorch.py --threads 2 --iterations 30
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_fashion_mnist(root, limit):
    with gzip.open(f"{root}/train-images-idx3-ubyte.gz", "rb") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:limit]
    images = torch.from_numpy(np.pad(data, ((0, 0), (0, 0), (2, 2), (2, 2))).copy())
    return images


def generator(nz, ngf):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())


def discriminator(ndf):
    return nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    batch, nz = 64, 100
    images = load_fashion_mnist(args.root, 8192)
    g, d = generator(nz, 64), discriminator(64)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def iteration():
        idx = torch.randint(0, images.shape[0], (batch,))
        real = images[idx].float().div_(127.5).sub_(1.0)
        fake = g(torch.randn(batch, nz, 1, 1))
        d_loss = F.softplus(-d(real).view(-1)).mean() + F.softplus(d(fake.detach()).view(-1)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-d(fake).view(-1)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        return d_loss.item(), g_loss.item()

    for _ in range(args.warmup):
        iteration()
    start = time.perf_counter()
    for _ in range(args.iterations):
        iteration()
    seconds = time.perf_counter() - start
    print(json.dumps({"name": "pytorch_python_fp32", "threads": args.threads, "iterations": args.iterations,
                      "ms_per_iteration": 1000 * seconds / args.iterations,
                      "images_per_second": batch * args.iterations / seconds,
                      "torch_version": torch.__version__}))


if __name__ == "__main__":
    main()
