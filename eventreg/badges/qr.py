"""QR symbols of badge codes: inline SVG for printed badges, PNG for screens and email.

Error correction Q (a quarter of the symbol may be scratched or hidden by a lanyard clip) and
the standard quiet zone of 4 modules. A badge code consists of QR alphanumeric characters only
(upper-case base32 and "ER1:"), so it is encoded in alphanumeric mode: 5.5 bits per character
instead of 8, a version 7 symbol (45 modules) instead of version 9.
"""
import io
from functools import lru_cache

import qrcode
import qrcode.image.pil
import qrcode.util

BORDER = 4
# Any of the 8 masks decodes (the symbol says which one it uses). qrcode tries all 8 to pick the
# one with the fewest confusing patterns, which costs 9 of the 10 ms a symbol takes and matters
# little here: a badge code is mostly an Ed25519 signature, random bits that no mask makes
# regular. A fixed mask keeps 1,000 badges within seconds (docs/PERFORMANCE.md).
MASK = 2


def _qr(code, **options):
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=BORDER, mask_pattern=MASK,
                       **options)
    qr.add_data(qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=True)
    return qr


def qr_svg(code):
    """The symbol as an inline <svg> element, sized by the stylesheet (the viewBox is in modules).

    One path, no namespace prefixes (they break inline HTML), and one stroked line per run of
    dark modules in a row. qrcode's SvgPathImage writes a square per module instead: four times
    the points, and WeasyPrint, which parses the path in Python, then spends 40 ms per badge
    drawing it instead of 10.
    """
    matrix = _qr(code).get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                runs.append(f"M{start} {y}.5h{x - start}")
            else:
                x += 1
    size = len(matrix)
    return (f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img">'
            f'<path d="{"".join(runs)}" stroke="#000" stroke-width="1" fill="none"/></svg>')


# A participant opens their page more than once; a symbol is a few kilobytes.
@lru_cache(maxsize=64)
def qr_png(code, box_size=8):
    """The symbol as PNG bytes, `box_size` pixels per module (8: 424 px, sharp on phones)."""
    out = io.BytesIO()
    _qr(code, box_size=box_size).make_image(image_factory=qrcode.image.pil.PilImage).save(out, format="PNG")
    return out.getvalue()
