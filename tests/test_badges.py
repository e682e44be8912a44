"""Badges: real PDFs read back (text, fonts, page size, the QR decoded), the cache, and reissue."""
import io
import subprocess
from dataclasses import replace

import pytest
from pypdf import PdfReader

from eventreg.badges import pdf as badge_pdfs
from eventreg.badges.pdf import StaticFilesOnly, badge_content, badge_pdf, badge_sheets_pdf, name_font_size
from eventreg.badges.service import BadgeRejected, badge_code, batch, reissue, resolve_code
from eventreg.extensions import db
from eventreg.registration.models import Registration

MM = 72 / 25.4


def registration_of(sign_up, **overrides):
    assert sign_up(**overrides).status_code == 303
    return db.session.execute(db.select(Registration).order_by(Registration.id.desc()).limit(1)).scalar_one()


def pages(pdf):
    return PdfReader(io.BytesIO(pdf)).pages


def text_of(pdf):
    return " ".join(" ".join(page.extract_text().split()) for page in pages(pdf))


def font_names(pdf):
    names = set()
    for page in pages(pdf):
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def decoded_qr_codes(pdf, tmp_path, page=1):
    """What a phone would read: the page rendered at 200 dpi, decoded by zbar."""
    source = tmp_path / "badge.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(source), str(tmp_path / "page")], check=True)
    result = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True, text=True)
    return set(result.stdout.split())


def page_size_mm(page):
    return round(float(page.mediabox.width) / MM, 1), round(float(page.mediabox.height) / MM, 1)


def test_a6_badge_shows_the_kazakh_name_in_embedded_dejavu_and_its_qr_decodes_to_the_code(sign_up, tmp_path):
    registration = registration_of(sign_up)
    pdf = badge_pdf(registration)
    [page] = pages(pdf)
    assert abs(float(page.mediabox.width) - 105 * MM) <= 1 and abs(float(page.mediabox.height) - 148 * MM) <= 1
    text = text_of(pdf)
    assert "Сәрсенбаева" in text and "Әйгерім Қайратқызы" in text
    assert "Волонтер" in text and registration.display_reference in text
    assert "«Асыл жүрек» республикалық волонтерлар слеті" in text
    assert font_names(pdf) and all(name.startswith("DejaVu") for name in font_names(pdf))
    assert decoded_qr_codes(pdf, tmp_path) == {badge_code(registration)}


def test_badge_never_prints_the_iin_phone_or_email(sign_up):
    registration = registration_of(sign_up, iin="000101500001", birth_date="2000-01-01",
                                   phone="+7 701 765 43 21", email="private@example.kz")
    text = text_of(badge_pdf(registration)).replace(" ", "")
    for secret in ("000101500001", "500001", "7654321", "private@example.kz", "example.kz"):
        assert secret not in text


def test_badge_is_in_the_participants_language(sign_up):
    registration = registration_of(sign_up, language="ru")
    text = text_of(badge_pdf(registration))
    assert "Республиканский слет волонтеров «Асыл жүрек»" in text
    assert "Акмолинская область" in text


@pytest.mark.parametrize("size, width, height", [("a6", 105, 148), ("cr80", 85.6, 54), ("label62", 62, 100)])
def test_each_badge_size_has_its_page_size_and_a_readable_code(sign_up, tmp_path, size, width, height):
    registration = registration_of(sign_up)
    pdf = badge_pdf(registration, size)
    [page] = pages(pdf)
    assert page_size_mm(page) == pytest.approx((width, height), abs=0.4)
    assert decoded_qr_codes(pdf, tmp_path) == {badge_code(registration)}


@pytest.mark.parametrize("size", ["a6", "cr80", "label62"])
def test_long_double_barrelled_kazakh_names_are_printed_whole_on_one_page(sign_up, tmp_path, size):
    registration = registration_of(sign_up, last_name="Нұрмұхамбетова-Қожахметова-Сәрсенбаева",
                                   first_name="Әйгерім-Гүлназ", patronymic="Бауыржанқызы",
                                   latin_name="Nurmukhambetova-Kozhakhmetova-Sarsenbayeva Aigerim-Gulnaz")
    pdf = badge_pdf(registration, size)
    assert len(pages(pdf)) == 1
    text = text_of(pdf).replace("- ", "-")
    assert "Нұрмұхамбетова-Қожахметова-Сәрсенбаева" in text
    assert "Әйгерім-Гүлназ Бауыржанқызы" in text
    assert decoded_qr_codes(pdf, tmp_path) == {badge_code(registration)}


def test_longer_names_get_smaller_type_in_steps(sign_up):
    registration = registration_of(sign_up)
    short = badge_content(registration)
    longer = replace(short, last_name="Сәрсенбаева-Жұмабекова")
    assert name_font_size(short, "a6") > name_font_size(longer, "a6") >= 11


def test_badge_is_rendered_once_and_again_only_when_something_printed_changes(sign_up, monkeypatch):
    registration = registration_of(sign_up)
    first = badge_pdf(registration)

    def must_not_render(*args):
        raise AssertionError("rendered again although nothing on the badge changed")

    monkeypatch.setattr(badge_pdfs, "render", must_not_render)
    registration.phone = "+77019998877"  # not on the badge
    db.session.commit()
    assert badge_pdf(registration) == first
    monkeypatch.undo()

    registration.last_name = "Нұрланова"
    db.session.commit()
    assert "Нұрланова" in text_of(badge_pdf(registration))
    cached = list((badge_pdfs._cache_folder(registration)).glob("a6-*.pdf"))
    assert len(cached) == 1, "the badge with the old name is not kept"


def test_a_reissued_badge_gets_a_new_code_and_the_old_one_is_refused(sign_up, event, tmp_path):
    registration = registration_of(sign_up)
    old_code = badge_code(registration)
    old_pdf = badge_pdf(registration)
    new_code = reissue(registration)
    assert new_code != old_code
    with pytest.raises(BadgeRejected) as rejected:
        resolve_code(event, old_code)
    assert rejected.value.reason == "reissued"
    assert resolve_code(event, new_code).id == registration.id
    new_pdf = badge_pdf(registration)
    assert new_pdf != old_pdf
    assert decoded_qr_codes(new_pdf, tmp_path) == {new_code}


def test_organizer_sheets_are_a4_four_badges_each_sorted_by_region_then_surname(sign_up, event, tmp_path):
    akmola, almaty = event.regions[0], event.regions[2]  # Ақмола облысы, Алматы облысы
    registration_of(sign_up, last_name="Жұмабеков", region=str(almaty.id))
    registration_of(sign_up, last_name="Әлиева", region=str(almaty.id))
    registration_of(sign_up, last_name="Яковлев", region=str(akmola.id))
    registration_of(sign_up, last_name="Қасымов", region=str(akmola.id))
    registration_of(sign_up, last_name="Абаев", region=str(almaty.id))
    chosen = batch(event)
    assert [r.last_name for r in chosen] == ["Қасымов", "Яковлев", "Абаев", "Әлиева", "Жұмабеков"]
    out = io.BytesIO()
    badge_sheets_pdf(chosen, out, chunk_size=4)
    pdf = out.getvalue()
    assert len(pages(pdf)) == 2
    for page in pages(pdf):
        assert page_size_mm(page) == pytest.approx((210, 297), abs=0.4)
    text = text_of(pdf)
    assert all(name in text for name in ("Қасымов", "Яковлев", "Абаев", "Әлиева", "Жұмабеков"))
    assert decoded_qr_codes(pdf, tmp_path, page=2) == {badge_code(chosen[4])}
    assert len(decoded_qr_codes(pdf, tmp_path, page=1)) == 4


def test_batch_filters_by_region_category_and_status(sign_up, event):
    leader = next(c for c in event.categories if c.code == "group_leader")
    registration_of(sign_up, last_name="Бекова", region=str(event.regions[0].id))
    registration_of(sign_up, last_name="Серікова", region=str(event.regions[1].id), category=str(leader.id))
    assert [r.last_name for r in batch(event, region=event.regions[1].code)] == ["Серікова"]
    assert [r.last_name for r in batch(event, category="volunteer")] == ["Бекова"]
    assert batch(event, status="waitlisted") == []


@pytest.mark.parametrize("url", [
    "http://example.com/font.ttf", "https://example.com/x.css", "ftp://example.com/x", "file:///etc/passwd",
])
def test_badge_renderer_fetches_nothing_but_files_under_static(app, url):
    fetcher = StaticFilesOnly(app.static_folder)
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    assert fetcher.fetch(f"file://{app.static_folder}/css/badge.css").read()
