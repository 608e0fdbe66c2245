#!/usr/bin/python3
"""Writes the binary seed files of fuzz/corpus/ (run once; the output is
committed). The JSON seeds of sweep_spec are written by hand.

Seeds are small valid files of each format, so that the fuzzer starts from
inputs that reach deep into each reader instead of failing at the magic.
"""
import io
import os
import struct

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    path = os.path.join(HERE, "corpus", target, name)
    with open(path, "wb") as f:
        f.write(data)


def npy_bytes(array, version=None):
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version)
    return out.getvalue()


def npy_seeds():
    rng = np.random.default_rng(1)
    write("npy", "float32-matrix-3x2.npy", npy_bytes(rng.standard_normal((3, 2)).astype("<f4")))
    write("npy", "float64-matrix-2x3.npy", npy_bytes(rng.standard_normal((2, 3)).astype("<f8")))
    write("npy", "float64-vector-4.npy", npy_bytes(rng.standard_normal(4).astype("<f8")))
    write("npy", "float32-version2-2x2.npy", npy_bytes(np.eye(2, dtype="<f4"), version=(2, 0)))
    write("npy", "float64-empty-0x3.npy", npy_bytes(np.zeros((0, 3), dtype="<f8")))


# dataset_readers inputs: one option byte (bit 0: gzip the IDX file), then the file.
PLAIN, GZIPPED = b"\x00", b"\x01"


def idx_bytes(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def image_bytes(image, fmt):
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def dataset_seeds():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(2, 4, 4), dtype=np.uint8)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    write("dataset_readers", "idx-images-2x4x4", PLAIN + idx_bytes(images))
    write("dataset_readers", "idx-images-2x4x4-gzipped", GZIPPED + idx_bytes(images))
    write("dataset_readers", "idx-labels-3", PLAIN + idx_bytes(labels))
    record = bytes([7]) + rng.integers(0, 256, size=3 * 32 * 32, dtype=np.uint8).tobytes()
    write("dataset_readers", "cifar-1-record", PLAIN + record)
    rgb = Image.fromarray(rng.integers(0, 256, size=(2, 3, 3), dtype=np.uint8), "RGB")
    write("dataset_readers", "png-rgb-3x2", PLAIN + image_bytes(rgb, "PNG"))
    grey_alpha = Image.fromarray(rng.integers(0, 256, size=(5, 4, 2), dtype=np.uint8), "LA")
    write("dataset_readers", "png-grey-alpha-4x5", PLAIN + image_bytes(grey_alpha, "PNG"))
    write("dataset_readers", "png-palette-3x2", PLAIN + image_bytes(rgb.convert("P"), "PNG"))
    write("dataset_readers", "jpeg-rgb-8x8", PLAIN + image_bytes(rgb.resize((8, 8)), "JPEG"))


if __name__ == "__main__":
    npy_seeds()
    dataset_seeds()
