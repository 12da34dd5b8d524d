"""Writes small images in every format the decoder must handle, hostile variants, and Pillow's decoded
pixels for each (the reference the Swift tests compare against).

    python3 Tests/SCNDataTests/Fixtures/make_image_fixtures.py     (needs numpy and Pillow)

Outputs, committed beside this script: *.png, *.jpg, and expected.json
({"file": {"width", "height", "channels", "pixels" (as a flat list)}}).
"""
import io
import json
import os

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
expected = {}


def save(name, image, **kw):
    image.save(os.path.join(here, name), **kw)


def record(name, mode):
    im = Image.open(os.path.join(here, name))
    if mode == "L":
        im = im.convert("L")
    elif mode == "RGB":
        im = im.convert("RGB")  # drops alpha
    a = np.asarray(im)
    expected[name] = {"width": im.width, "height": im.height, "channels": 1 if a.ndim == 2 else a.shape[2],
                      "pixels": a.reshape(-1).tolist()}


gradient = np.stack([np.add.outer(np.arange(12) * 20, np.arange(10) * 5) % 256,
                     np.add.outer(np.arange(12) * 3, np.arange(10) * 25) % 256,
                     rng.integers(0, 256, (12, 10))], axis=2).astype(np.uint8)
save("rgb.png", Image.fromarray(gradient))
record("rgb.png", "RGB")
save("gray.png", Image.fromarray(gradient[:, :, 0]))
record("gray.png", "L")
rgba = np.concatenate([gradient, rng.integers(0, 256, (12, 10, 1)).astype(np.uint8)], axis=2)
save("rgba.png", Image.fromarray(rgba))
record("rgba.png", "RGB")
save("palette.png", Image.fromarray(gradient).convert("P", palette=Image.ADAPTIVE, colors=16))
record("palette.png", "RGB")
# 16-bit grayscale: libpng and Pillow both reduce to 8 bits by the high byte (v >> 8) when rounding is
# exact; values that are multiples of 257 make both agree exactly.
sixteen = (gradient[:, :, 0].astype(np.uint16) * 257)
Image.fromarray(sixteen).save(os.path.join(here, "gray16.png"))
expected["gray16.png"] = {"width": 10, "height": 12, "channels": 1, "pixels": gradient[:, :, 0].reshape(-1).tolist()}
save("rgb.jpg", Image.fromarray(gradient), quality=95)
record("rgb.jpg", "RGB")
save("gray.jpg", Image.fromarray(gradient[:, :, 0]), quality=95)
record("gray.jpg", "L")

# Hostile files.
with open(os.path.join(here, "rgb.png"), "rb") as f:
    png = f.read()
with open(os.path.join(here, "truncated.png"), "wb") as f:
    f.write(png[: len(png) // 2])
with open(os.path.join(here, "rgb.jpg"), "rb") as f:
    jpg = f.read()
with open(os.path.join(here, "truncated.jpg"), "wb") as f:
    f.write(jpg[: len(jpg) // 2])
with open(os.path.join(here, "not-an-image.png"), "wb") as f:
    f.write(b"hello, this is text\n")
# A PNG header claiming 100000 x 100000 pixels (a decompression bomb), with a correct CRC.
import struct
import zlib
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)
chunk = b"IHDR" + ihdr
bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
with open(os.path.join(here, "bomb.png"), "wb") as f:
    f.write(bomb + png[33:])
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f)
