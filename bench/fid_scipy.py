#!/usr/bin/env python3
"""FID the way pytorch-fid computes it (numpy mean and covariance, then
scipy.linalg.sqrtm of S1 S2), timed on the same .npy files fid_bench reads.

    /usr/bin/python3 bench/fid_scipy.py A.npy B.npy
"""
import json
import sys
import time

import numpy as np
from scipy import linalg


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    diff = mu1 - mu2
    root, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(root).all():  # pytorch-fid's fallback for singular products
        offset = np.eye(sigma1.shape[0]) * eps
        root = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    root = root.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root))


def main():
    a = np.load(sys.argv[1]).astype(np.float64)
    b = np.load(sys.argv[2]).astype(np.float64)
    times = []
    for _ in range(4):  # first call cold, then the median of three warm ones
        start = time.perf_counter()
        fid = frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
        times.append(time.perf_counter() - start)
    print(json.dumps({"fid": fid, "cold_seconds": times[0], "seconds": sorted(times[1:])[1]}))


if __name__ == "__main__":
    main()
