"""Align a detected face to a canonical 5-point template.

The template is dlib's 5-point mean face (the one `dlib.get_face_chip` uses, `DLIB_5POINT`),
scaled and placed where the 5 landmarks lie on average inside the LFW training crop
(`DATASETS["lfw"].crop`, box (68, 68, 182, 182) of the 250x250 photos; measured on 300 LFW
images, residual 0.004 of the crop side): an aligned face is framed like the crops the
networks were trained on.

The similarity transform (rotation, uniform scale, translation; no shear, no reflection)
from the template to the photo's landmarks is fitted by least squares (residuals in photo
pixels, the direction dlib fits) and drives Pillow's affine transform, which maps each
output pixel back to the photo. A face larger than the output is first warped bilinearly
at a whole multiple of the output size near its own scale, then box-averaged down to it,
like the training crops (`decode_face`, resample "box"). Pixels beyond the photo's edges
are black.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

# dlib's 5-point mean face in [0, 1] (dlib/image_transforms/interpolation.h), rows in the
# predictor's order; `dlib.get_face_chip(padding=p)` maps it to (p + t) / (1 + 2p) * size.
DLIB_5POINT = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                        [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                        [0.4901123135679, 0.6277975316475]])
# The template in units of the output side: DLIB_5POINT * scale + offset, fitted to where the
# landmarks of 300 LFW images lie inside the LFW training crop (see the module docstring).
TEMPLATE_SCALE, TEMPLATE_OFFSET = 0.7068, (0.1635, 0.2555)
TEMPLATE = DLIB_5POINT * TEMPLATE_SCALE + np.array(TEMPLATE_OFFSET)
# The most a face is warped above the output size before box-averaging (8: a 256-pixel face
# for a 32-pixel crop; larger faces are warped at 8x and averaged over 8x8 blocks).
MAX_SUPERSAMPLE = 8


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix [[a, -b, tx], [b, a, ty]] minimising sum |A src_i - dst_i|^2."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    n = len(src)
    rows = np.zeros((2 * n, 4))
    rows[0::2] = np.c_[src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)]
    rows[1::2] = np.c_[src[:, 1], src[:, 0], np.zeros(n), np.ones(n)]
    (a, b, tx, ty), *_ = np.linalg.lstsq(rows, dst.reshape(-1), rcond=None)
    return np.array([[a, -b, tx], [b, a, ty]])


def warp(im: Image.Image, landmarks: np.ndarray, size: int,
         template: np.ndarray = TEMPLATE) -> Image.Image:
    """The face with these 5 landmarks, aligned: a size x size image of `im`'s mode.

    `template` holds the 5 target points in units of the output side; landmarks are (x, y)
    with pixel centres at integers, as dlib gives them.
    """
    # continuous coordinates: a pixel (i, j) covers [i, i + 1) x [j, j + 1)
    m = similarity(np.asarray(template) * size, np.asarray(landmarks, np.float64) + 0.5)
    scale = math.hypot(m[0, 0], m[1, 0])  # photo pixels per output pixel
    k = max(1, min(MAX_SUPERSAMPLE, math.ceil(scale - 1e-9)))
    m[:, :2] /= k  # a pixel of the k-times larger warp is 1/k output pixels
    out = im.transform((size * k, size * k), Image.Transform.AFFINE, tuple(m.reshape(-1)),
                       resample=Image.Resampling.BILINEAR)
    return out.resize((size, size), Image.Resampling.BOX) if k > 1 else out


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int,
               template: np.ndarray = TEMPLATE) -> np.ndarray:
    """(H, W, 3) uint8 photo and a face's 5 landmarks -> (3, size, size) uint8 (`warp`)."""
    out = warp(Image.fromarray(np.ascontiguousarray(rgb)), landmarks, size, template)
    return np.ascontiguousarray(np.asarray(out, dtype=np.uint8).transpose(2, 0, 1))


__all__ = ["DLIB_5POINT", "MAX_SUPERSAMPLE", "TEMPLATE", "align_face", "similarity", "warp"]
