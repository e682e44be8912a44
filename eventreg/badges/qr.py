"""QR symbols of badge codes: vector drawing operators for printed badges, PNG for screens and email.

Error correction Q (a quarter of the symbol may be scratched or hidden by a lanyard clip) and
the standard quiet zone of 4 modules. A badge code consists of QR alphanumeric characters only
(upper-case base32 and "ER1:"), so it is encoded in alphanumeric mode: 5.5 bits per character
instead of 8, a version 7 symbol (45 modules) instead of version 9.
"""
import io
import re
from functools import lru_cache

import qrcode
import qrcode.image.pil
import qrcode.util

BORDER = 4
# Any of the 8 masks decodes (the symbol says which one it uses). qrcode tries all 8 to pick the
# one with the fewest confusing patterns, which costs 9 of the 10 ms a symbol takes and matters
# little here: a badge code is mostly an Ed25519 signature, random bits that no mask makes
# regular. A fixed mask keeps 1,000 badges within seconds (docs/BADGES.md).
MASK = 2
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
_DARK_RUN = re.compile(b"\x01+")


def _data(code):
    return qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM)


@lru_cache(maxsize=8)
def _version(length):
    """The smallest QR version that holds a code of this length. Badge codes of a format all
    have the same length, so this is worked out once instead of for every symbol."""
    qr = qrcode.QRCode(error_correction=_ERROR_CORRECTION)
    qr.add_data(_data("A" * length))
    return qr.best_fit()


def _qr(code, **options):
    qr = qrcode.QRCode(version=_version(len(code)), error_correction=_ERROR_CORRECTION, border=BORDER,
                       mask_pattern=MASK, **options)
    qr.add_data(_data(code))
    qr.make(fit=False)
    return qr


def qr_pdf_operators(code):
    """The symbol as PDF drawing operators in module units: one filled rectangle per run of dark
    modules in a row, row 0 at y 0 and rows counting up (the caller's transformation turns them
    the right way up and scales a module to its size). Returns (size in modules, quiet zone
    included; the operators as bytes).

    Vector, so it prints sharp on any printer. pdf.py writes these straight into the page
    instead of handing WeasyPrint an inline SVG, whose path WeasyPrint parses in Python: that
    took half the time of a badge on a sheet (docs/BADGES.md).
    """
    matrix = _qr(code).get_matrix()
    rectangles = []
    for row, modules in enumerate(matrix):
        for run in _DARK_RUN.finditer(bytes(modules)):
            rectangles.append(f"{run.start()} {row} {run.end() - run.start()} 1 re")
    return len(matrix), "\n".join(rectangles).encode()


# A participant opens their page more than once; a symbol is a few kilobytes.
@lru_cache(maxsize=64)
def qr_png(code, box_size=8):
    """The symbol as PNG bytes, `box_size` pixels per module (8: 424 px, sharp on phones)."""
    out = io.BytesIO()
    _qr(code, box_size=box_size).make_image(image_factory=qrcode.image.pil.PilImage).save(out, format="PNG")
    return out.getvalue()
