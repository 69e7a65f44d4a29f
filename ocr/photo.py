"""Phone photos: even out the light before anything is read.

A sheet photographed on a desk is lit unevenly: the phone's and the hand's shadow, vignetting, a lamp on
one side.  The paper is then 250 in one corner and 120 in another, and every measure that compares ink
with a fixed level (the corner marks' global threshold, the ink mask's offset above the local mean)
works in the bright part and fails in the dark one.  A scanner lights the page evenly, so a scan is left
as it is.

``flatten_illumination(gray)``: estimate the paper's brightness everywhere (a grey closing of a small copy
takes the ink out: strokes, tick boxes and the corner marks are all narrower than the closing, a QR code's
modules and a text's letters have paper between them), and when it varies over the page by more than
``UNEVEN_MIN``, divide the image by it: the paper everywhere becomes as light as the brightest paper, the ink
keeps its contrast relative to the paper around it.  Returns the image unchanged otherwise.  Called by
:func:`ocr.align.to_arrays`, so the whole page reading (blank test, corner marks, QR, boxes, name line) sees
the evened image.
"""
from __future__ import annotations

import cv2
import numpy as np

SMALL_SIDE = 256  # the background is estimated on a copy this many pixels on its long side
CLOSE_FRAC = 0.035  # closing kernel as a share of the long side (a corner mark is ~2%, a tick box ~1.5%)
PAPER_SHARE = 0.55  # background at least this share of the brightest background: paper (not the desk)
UNEVEN_MIN = 0.12  # paper 12% darker in one place than the brightest paper (5th vs 98th percentile): uneven


def background(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness on a small copy of ``gray`` (float32, ink taken out)."""
    h, w = gray.shape
    step = max(1, max(h, w) // (2 * SMALL_SIDE))  # every step-th pixel, then halved: cheap on a 12 Mpx photo
    # the brightest of each 3x3 before averaging: the paper between a QR code's modules and a text's letters
    # (averaged, a QR code is a grey block wider than the closing)
    sub = cv2.dilate(gray[::step, ::step], np.ones((3, 3), np.uint8))
    f = SMALL_SIDE / max(sub.shape)
    small = cv2.resize(sub, (max(1, int(round(sub.shape[1] * f))), max(1, int(round(sub.shape[0] * f)))),
                       interpolation=cv2.INTER_AREA)
    k = max(3, int(round(CLOSE_FRAC * SMALL_SIDE)) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.GaussianBlur(bg.astype(np.float32), (0, 0), k / 2.0)


def unevenness(bg: np.ndarray) -> float:
    """How much darker the darkest paper is than the brightest (0 for an evenly lit page)."""
    top = float(np.percentile(bg, 98))
    if top <= 1.0:
        return 0.0
    paper = bg[bg >= PAPER_SHARE * top]
    if paper.size < 0.2 * bg.size:
        return 0.0
    return 1.0 - float(np.percentile(paper, 5)) / top


def flatten_illumination(gray: np.ndarray) -> np.ndarray:
    """``gray`` with the light evened out when it is uneven (a phone photo), else ``gray`` itself."""
    if gray.size == 0 or min(gray.shape) < 32:
        return gray
    bg = background(gray)
    if unevenness(bg) < UNEVEN_MIN:
        return gray
    h, w = gray.shape
    # the brightest paper keeps its level (its faint marks keep every grey level they had), the rest is
    # brought up to it
    top = float(np.percentile(bg, 98))
    full = cv2.resize(np.clip(bg, 8, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, full, scale=top)  # uint8, saturated
