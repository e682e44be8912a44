"""How badges are rendered fast: cut-down fonts that draw exactly like DejaVu Sans, the QR code drawn
as vector shapes, and batches split across processes (docs/BADGES.md)."""
import io
import subprocess
from pathlib import Path

import pytest
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from eventreg.badges.fonts import FAMILY, KAZAKH
from eventreg.badges.pdf import badge_pdf, badge_sheets_pdf
from eventreg.badges.service import badge_code, batch
from eventreg.extensions import db
from eventreg.registration.models import Registration

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
RUSSIAN = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
KAZAKH_LATIN = "ÄäĞğIıİiÑñÖöŞşŪūÜü"


def registration_of(sign_up, **overrides):
    assert sign_up(**overrides).status_code == 303
    return db.session.execute(db.select(Registration).order_by(Registration.id.desc()).limit(1)).scalar_one()


@pytest.mark.parametrize("cut_down, full", [("DejaVuSansBadge.ttf", "DejaVuSans.ttf"),
                                            ("DejaVuSansBadge-Bold.ttf", "DejaVuSans-Bold.ttf")])
def test_badge_fonts_draw_every_letter_they_have_exactly_as_dejavu_sans(cut_down, full):
    small, large = TTFont(FONTS / cut_down), TTFont(FONTS / full)
    assert small["name"].getDebugName(1) == FAMILY
    small_glyphs, large_glyphs = small.getGlyphSet(), large.getGlyphSet()
    small_cmap, large_cmap = small.getBestCmap(), large.getBestCmap()
    assert set(KAZAKH + RUSSIAN + KAZAKH_LATIN + "«»–—№") <= {chr(c) for c in small_cmap}
    for character in small_cmap:
        drawn = []
        for glyphs, cmap in ((small_glyphs, small_cmap), (large_glyphs, large_cmap)):
            pen = DecomposingRecordingPen(glyphs)
            glyphs[cmap[character]].draw(pen)
            drawn.append((pen.value, glyphs[cmap[character]].width))
        assert drawn[0] == drawn[1], f"{chr(character)!r} differs from DejaVu Sans"


def test_the_qr_code_is_drawn_as_vector_shapes_not_as_an_image(sign_up, tmp_path):
    registration = registration_of(sign_up)
    pdf = badge_pdf(registration)
    [page] = PdfReader(io.BytesIO(pdf)).pages
    xobjects = page["/Resources"].get("/XObject", {})
    assert not [x for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image"]
    (tmp_path / "badge.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(tmp_path / "badge.pdf"),
                    str(tmp_path / "page")], check=True)
    result = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True, text=True)
    assert result.stdout.split() == [badge_code(registration)]


def test_a_batch_rendered_in_two_processes_is_the_same_as_in_one(sign_up, event):
    for surname in ("Абаев", "Бекова", "Жұмабеков", "Әлиева", "Қасымов", "Нұрланова", "Оспанов", "Серікова", "Яковлев"):
        registration_of(sign_up, last_name=surname)
    chosen = batch(event)
    texts = []
    for processes in (1, 2):
        out = io.BytesIO()
        badge_sheets_pdf(chosen, out, chunk_size=4, processes=processes)
        texts.append([page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages])
    assert len(texts[1]) == 3
    assert texts[0] == texts[1]
    surnames = [r.last_name for r in chosen]
    assert [s for page in texts[1] for s in surnames if s in page] == surnames
