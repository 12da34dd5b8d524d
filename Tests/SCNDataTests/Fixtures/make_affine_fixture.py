"""Writes affine.json, scipy's rotations, scalings and shifts of a small random image (the reference for
ImageTransform.randomAffine's sampling in Tests/SCNDataTests/TransformsAndLoaderTests.swift).

    python3 Tests/SCNDataTests/Fixtures/make_affine_fixture.py     (needs numpy and scipy; CI never runs it)

scipy.ndimage.affine_transform, order 1 (bilinear), mode 'grid-constant' (zeros outside the image, interpolated
across its edge), in (row, column) coordinates: input[M @ (row, col) + offset] for each output pixel, with M
the inverse of a counter-clockwise rotation by `degrees` scaled by `scale`, about the centre, then shifted by
(dx, dy) pixels (right, down).
"""
import json
import math
import os

import numpy as np
from scipy.ndimage import affine_transform

rng = np.random.default_rng(3)
height, width, channels = 9, 7, 3
image = rng.integers(0, 256, size=(height, width, channels)).astype(np.float64)
cases = []
for degrees, scale, dx, dy in [(0, 1, 0, 0), (90, 1, 0, 0), (17.5, 1, 0, 0), (-23, 1.15, 1.3, -0.6), (8, 0.85, -2.2, 1.7)]:
    r = math.radians(degrees)
    c, s = math.cos(r) / scale, math.sin(r) / scale
    matrix = np.array([[c, s], [-s, c]])  # (row, col) of the input from (row, col) of the output, before offsets
    cy, cx = (height - 1) / 2, (width - 1) / 2
    offset = np.array([cy, cx]) - matrix @ np.array([cy + dy, cx + dx])
    out = np.stack([affine_transform(image[:, :, k], matrix, offset=offset, order=1, mode="grid-constant", cval=0)
                    for k in range(channels)], axis=2)
    cases.append({"degrees": degrees, "scale": scale, "dx": dx, "dy": dy, "values": out.reshape(-1).tolist()})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "affine.json")
with open(path, "w") as f:
    json.dump({"width": width, "height": height, "channels": channels, "values": image.reshape(-1).tolist(), "cases": cases}, f)
