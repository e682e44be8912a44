"""Attendee list exports: CSV that Excel opens, XLSX, PDF sign-in sheets; filters; formula injection."""
import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from eventreg.extensions import db
from eventreg.registration.models import CANCELLED
from eventreg.registration.service import cancel

from .organizer_helpers import log_in, person

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def organizer(client, event):
    return log_in(client, event)


def read_csv(response, delimiter=","):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=delimiter))


def read_xlsx(response):
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return sheet, [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_csv_starts_with_a_bom_and_keeps_kazakh_names_byte_for_byte(client, event, organizer):
    person(event, last_name="Құрманғалиева", first_name="Әсел", patronymic="Ұлықбекқызы")
    response = client.get(f"/organizer/events/{event.slug}/participants.csv")
    assert response.data.startswith(BOM)
    assert "Құрманғалиева".encode() in response.data and "Ұлықбекқызы".encode() in response.data
    rows = read_csv(response)
    assert rows[0][:4] == ["Reference", "Last name", "First name", "Patronymic"]
    assert rows[1][1:4] == ["Құрманғалиева", "Әсел", "Ұлықбекқызы"]
    assert rows[1][4] == "Алматы облысы" or rows[1][4] == "Almaty Region"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]


def test_csv_with_semicolons_and_without_bom_on_request(client, event, organizer):
    person(event, organization="Мектеп; №5")
    response = client.get(f"/organizer/events/{event.slug}/participants.csv?delimiter=semicolon&bom=0")
    assert not response.data.startswith(BOM)
    rows = read_csv(response, delimiter=";")
    assert rows[1][rows[0].index("Organization")] == "Мектеп; №5"


def test_formula_like_cells_are_neutralized_and_phones_stay_text(client, event, organizer):
    registration = person(event, last_name="=HYPERLINK(\"http://evil.example\",\"x\")", first_name="@SUM(A1:A9)",
                          patronymic="-1", organization="+7 701 000")
    # Sign-up collapses whitespace, so a leading tab can only come from elsewhere (old data, the database).
    registration.latin_name = "\tTab"
    db.session.commit()
    columns = "last_name,first_name,patronymic,organization,latin_name,phone"
    rows = read_csv(client.get(f"/organizer/events/{event.slug}/participants.csv?columns={columns}"))
    last, first, patronymic, organization, latin, phone = rows[1]
    assert last == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert first == "'@SUM(A1:A9)"
    assert patronymic == "'-1"
    assert organization == "'+7 701 000"
    assert latin == "'\tTab"
    assert phone.startswith("'+7 701 ")  # grouped, and text for Excel: never a number or a formula

    sheet, values = read_xlsx(client.get(f"/organizer/events/{event.slug}/participants.xlsx?columns={columns}"))
    assert values[1][:4] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'@SUM(A1:A9)", "'-1", "'+7 701 000"]
    assert values[1][5].startswith("'+7 701 ")
    assert all(cell.data_type == "s" for cell in sheet[2])  # strings, no formula cell anywhere


def test_filters_apply_to_exports(client, event, organizer):
    person(event, region_code="ALM", last_name="Алматылық")
    person(event, region_code="AKM", last_name="Ақмолалық")
    person(event, region_code="ALM", category_code="group_leader", last_name="Жетекші")
    gone = person(event, region_code="ALM", last_name="Кеткен")
    cancel(gone)
    base = f"/organizer/events/{event.slug}/participants.csv?columns=last_name"
    names = lambda url: sorted(row[0] for row in read_csv(client.get(url))[1:])  # noqa: E731
    assert names(base) == sorted(["Алматылық", "Ақмолалық", "Жетекші", "Кеткен"])
    assert names(base + "&region=ALM") == sorted(["Алматылық", "Жетекші", "Кеткен"])
    assert names(base + "&region=ALM&category=group_leader") == ["Жетекші"]
    assert names(base + f"&status={CANCELLED}") == ["Кеткен"]
    assert names(base + "&q=ақмола") == ["Ақмолалық"]
    assert names(base + "&checked_in=yes") == []
    assert names(base + "&region=NOPE") == names(base)  # an unknown value filters nothing


def test_chosen_columns_come_in_the_order_asked_and_unknown_ones_are_ignored(client, event, organizer):
    person(event)
    rows = read_csv(client.get(f"/organizer/events/{event.slug}/participants.csv?columns=email,secret,iin,status"))
    assert rows[0] == ["Email", "IIN", "Status"]
    assert rows[1][2] == "Confirmed"
    assert len(rows[1][1]) == 12


def test_xlsx_has_a_frozen_bold_header_and_column_widths(client, event, organizer):
    person(event, last_name="Төлеуова", birth_date=__import__("datetime").date(2000, 3, 15))
    sheet, values = read_xlsx(client.get(
        f"/organizer/events/{event.slug}/participants.xlsx?columns=last_name,birth_date,region"))
    assert values[0] == ["Last name", "Date of birth", "Region (delegation)"]
    assert values[1][0] == "Төлеуова"
    assert values[1][1].date().isoformat() == "2000-03-15"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert sheet.column_dimensions["A"].width >= 15


def test_pdf_sign_in_sheets_are_grouped_by_region_in_kazakh_order(client, event, organizer):
    person(event, region_code="ALM", last_name="Өтегенов", first_name="Ерлан", sex="M")
    person(event, region_code="ALM", last_name="Оспанов", first_name="Асқар", sex="M")
    person(event, region_code="ALM", last_name="Яковлев", first_name="Пётр", sex="M")
    person(event, region_code="AKM", last_name="Әбенова", first_name="Гүлнар")
    response = client.get(f"/organizer/events/{event.slug}/participants.pdf", headers={"Accept-Language": "kk"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    assert len(pages) == 2  # one region per page here
    assert "Ақмола облысы" in pages[0] and "Әбенова" in pages[0]
    alm = pages[1]
    assert "Алматы облысы" in alm
    # о < ө < я in the Kazakh alphabet (code points would put ө after я).
    assert alm.index("Оспанов") < alm.index("Өтегенов") < alm.index("Яковлев")
    # Our own DejaVu, embedded: a server without the system's DejaVu must still print Kazakh letters.
    fonts = {str(page["/Resources"]["/Font"][name].get_object()["/BaseFont"])
             for page in PdfReader(io.BytesIO(response.data)).pages for name in page["/Resources"]["/Font"]}
    assert fonts and all(font.partition("+")[2].startswith("Sheet") for font in fonts), fonts


def test_exports_are_for_organizers_only(client, event):
    for extension in ("csv", "xlsx", "pdf"):
        response = client.get(f"/organizer/events/{event.slug}/participants.{extension}")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    log_in(client, event, "staff")
    for extension in ("csv", "xlsx", "pdf"):
        assert client.get(f"/organizer/events/{event.slug}/participants.{extension}").status_code == 403
