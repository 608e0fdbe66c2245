#!/usr/bin/python3
"""Writes the binary seed files of fuzz/corpus/ (run once; the output is
committed). The JSON seeds of sweep_spec are written by hand.

Seeds are small valid files of each format, so that the fuzzer starts from
inputs that reach deep into each reader instead of failing at the magic.
"""
import io
import json
import os
import random
import struct
import sys
import zlib

try:  # the npy and dataset seeds need them; the edge_bsg seeds do not
    import numpy as np
    from PIL import Image
except ImportError:
    np = Image = None

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


def bsg_bytes(image_size, channels, nz, ngf, bits, rng):
    """A packed generator (.bsg) as bitsweep writes it: layer i at bits[i]
    (32: float32), random levels, codes and batch-norm statistics."""
    mults = [8, 4, 2, 1] if image_size == 64 else [4, 2, 1]
    payload = b""
    tensors = []

    def add(name, shape, data, **encoding):
        nonlocal payload
        tensors.append(dict(name=name, shape=shape, offset=len(payload), **encoding, bytes=len(data)))
        payload += data

    def floats(values):
        return struct.pack("<%df" % len(values), *values)

    cin = nz
    for i in range(len(mults) + 1):
        last = i == len(mults)
        cout = channels if last else mults[i] * ngf
        count = cin * cout * 16
        shape = [cin, cout, 4, 4]
        if bits[i] == 32:
            add("conv%d.weight" % (i + 1), shape, floats([rng.uniform(-0.5, 0.5) for _ in range(count)]),
                encoding="float32")
        else:
            levels = sorted(rng.uniform(-0.5, 0.5) for _ in range(1 << bits[i]))
            packed = bytearray((count * bits[i] + 7) // 8)
            for j in range(count):
                code = rng.randrange(1 << bits[i])
                for b in range(bits[i]):
                    if code >> b & 1:
                        bit = j * bits[i] + b
                        packed[bit // 8] |= 1 << (bit % 8)
            add("conv%d.weight" % (i + 1), shape, floats(levels) + bytes(packed), encoding="packed", bits=bits[i],
                levels=len(levels))
        if not last:
            norm = "bn%d" % (i + 1)
            add(norm + ".bias", [cout], floats([rng.uniform(-0.1, 0.1) for _ in range(cout)]), encoding="float32")
            add(norm + ".running_mean", [cout], floats([rng.uniform(-0.1, 0.1) for _ in range(cout)]),
                encoding="float32")
            add(norm + ".running_var", [cout], floats([rng.uniform(0.5, 1.5) for _ in range(cout)]),
                encoding="float32")
            add(norm + ".weight", [cout], floats([rng.uniform(0.8, 1.2) for _ in range(cout)]), encoding="float32")
        cin = cout
    header = dict(format="bitsweep-packed-generator", version=1,
                  arch=dict(image_size=image_size, channels=channels, nz=nz, ngf=ngf),
                  quant=dict(method="em", bits=min(bits), keep_first_last_fp=False), tensors=tensors,
                  payload_bytes=len(payload), payload_crc32=zlib.crc32(payload), full_precision_bytes=0)
    text = json.dumps(header, separators=(",", ":")).encode()
    return b"BSWPGEN1" + struct.pack("<I", len(text)) + text + payload


def edge_bsg_seeds():
    rng = random.Random(3)
    write("edge_bsg", "dcgan32-grey-widths-1-2-3-4.bsg", bsg_bytes(32, 1, 2, 1, [1, 2, 3, 4], rng))
    write("edge_bsg", "dcgan32-rgb-8bit-float-ends.bsg", bsg_bytes(32, 3, 3, 2, [32, 8, 8, 32], rng))
    write("edge_bsg", "dcgan32-grey-5-6-7-1.bsg", bsg_bytes(32, 1, 3, 1, [5, 6, 7, 1], rng))
    write("edge_bsg", "dcgan64-grey-float.bsg", bsg_bytes(64, 1, 2, 1, [32, 32, 32, 32, 32], rng))
    write("edge_bsg", "dcgan64-rgb-2bit.bsg", bsg_bytes(64, 3, 2, 1, [2, 2, 2, 2, 2], rng))


SEEDS = {"npy": lambda: npy_seeds(), "dataset_readers": lambda: dataset_seeds(), "edge_bsg": edge_bsg_seeds}

if __name__ == "__main__":
    # make_seeds.py [TARGET...]: the seeds of those targets (default: all).
    for target in sys.argv[1:] or list(SEEDS):
        SEEDS[target]()
