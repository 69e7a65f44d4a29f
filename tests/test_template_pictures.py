"""Each template, rendered to PDF by LibreOffice and then to a picture, still looks like its
committed reference (tests/reference/*.png, looked at by a person when made)."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.reference.render_samples import HERE, render_all

if not shutil.which("soffice") and os.environ.get("CI") != "true":
    pytest.skip(reason="LibreOffice (soffice) is not installed: scripts/install.sh installs it", allow_module_level=True)

MEAN_TOLERANCE = 2.0  # mean grey-level difference (0–255)
PIXEL_TOLERANCE = 0.01  # share of pixels that differ clearly (by more than 64 levels)


def difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.shape != b.shape:
        return 255.0, 1.0
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(d.mean()), float((d > 64).mean())


@pytest.fixture(scope="module")
def rendered():
    return render_all()


@pytest.mark.parametrize("name", ["introduction_letter", "introduction_letter_exempt", "evaluation_sheet",
                                  "evaluation_sheet_exempt", "cover_letter"])
def test_template_matches_reference_picture(rendered, name):
    pages = rendered[name]
    references = sorted(HERE.glob(f"{name}-p*.png"))
    assert len(pages) == len(references) == 1, "each document fits on one A4 page"
    reference = np.asarray(Image.open(references[0]).convert("L"))
    mean, share = difference(pages[0], reference)
    assert mean < MEAN_TOLERANCE and share < PIXEL_TOLERANCE, (name, mean, share)


def test_the_comparison_sees_a_real_change(rendered):
    """The exempt letter has one more line than the ordinary one: that must not pass as 'the same'."""
    reference = np.asarray(Image.open(HERE / "introduction_letter-p1.png").convert("L"))
    mean, share = difference(rendered["introduction_letter_exempt"][0], reference)
    assert mean >= MEAN_TOLERANCE or share >= PIXEL_TOLERANCE
