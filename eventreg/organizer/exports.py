"""Attendee list exports: CSV, XLSX and PDF sign-in sheets of the filtered participants.

Rows come from one Core SELECT of plain columns, fetched in partitions (yield_per: a server-side
cursor on PostgreSQL), never as ORM objects: memory stays flat whatever the number of people.
CSV is streamed to the client as it is written; XLSX is written by openpyxl in write-only mode
to a temporary file; the PDF is rendered by WeasyPrint in chunks joined with pypdf.

Every text cell that a spreadsheet would take for a formula (starting with = + - @ tab or CR) gets
a leading apostrophe: names and organizations are typed by the public. Phone numbers (+7 ...)
thereby stay text, as they should.
"""
import csv
import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pypdf import PdfWriter
from sqlalchemy import select

from ..db import as_utc
from ..events.models import Category, Region
from ..registration.models import CANCELLED, CONFIRMED, WAITLISTED, Registration
from ..registration.validators import format_phone
from . import sanitary
from .service import conditions, first_arrivals

BATCH = 2000
FORMULA_START = frozenset("=+-@\t\r")
PDF_CHUNK = 300  # rows per WeasyPrint document: bounds its memory, whatever the list


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy string: translated when the file is written
    width: int  # XLSX column width, in characters


COLUMNS = {c.key: c for c in (
    Column("reference", _l("Reference"), 11),
    Column("last_name", _l("Last name"), 20),
    Column("first_name", _l("First name"), 16),
    Column("patronymic", _l("Patronymic"), 18),
    Column("latin_name", _l("Name in Latin letters"), 22),
    Column("iin", _l("IIN"), 14),
    Column("birth_date", _l("Date of birth"), 12),
    Column("sex", _l("Sex"), 5),
    Column("phone", _l("Mobile phone"), 18),
    Column("email", _l("Email"), 28),
    Column("region", _l("Region (delegation)"), 26),
    Column("category", _l("Participant category"), 20),
    Column("organization", _l("Organization"), 32),
    Column("language", _l("Preferred language"), 8),
    Column("guardian_name", _l("Parent or guardian"), 24),
    Column("status", _l("Status"), 13),
    Column("registered_at", _l("Registered at"), 17),
    Column("arrived_at", _l("Arrived at"), 17),
    Column("sanitary", _l("Sanitary status"), 16),
)}
DEFAULT_COLUMNS = ("reference", "last_name", "first_name", "patronymic", "region", "category", "organization",
                   "phone", "email", "status")
STATUS_LABELS = {CONFIRMED: _l("Confirmed"), WAITLISTED: _l("Waitlisted"), CANCELLED: _l("Cancelled")}


def available_columns():
    """The columns an organizer may choose from (the sanitary status only where the feature exists)."""
    return [c for c in COLUMNS.values() if c.key != "sanitary" or sanitary.available()]


def chosen_columns(values):
    """The valid column keys among `values` (a list from ?columns=a,b or repeated ?columns=), in that
    order, without repeats; the default set when none is valid."""
    allowed = {c.key for c in available_columns()}
    keys = []
    for value in values:
        for key in value.split(","):
            key = key.strip()
            if key in allowed and key not in keys:
                keys.append(key)
    return tuple(keys) or DEFAULT_COLUMNS


def neutralize(text):
    """Text a spreadsheet shows as it is, instead of evaluating it as a formula."""
    if text and text[0] in FORMULA_START:
        return "'" + text
    return text


def _expressions(language, arrivals):
    """The SQL expression of each column (sanitary is computed in Python, from the id)."""
    return {
        "reference": Registration.reference, "last_name": Registration.last_name,
        "first_name": Registration.first_name, "patronymic": Registration.patronymic,
        "latin_name": Registration.latin_name, "iin": Registration.iin, "birth_date": Registration.birth_date,
        "sex": Registration.sex, "phone": Registration.phone, "email": Registration.email,
        "region": getattr(Region, f"name_{language}"), "category": getattr(Category, f"name_{language}"),
        "organization": Registration.organization, "language": Registration.language,
        "guardian_name": Registration.guardian_name, "status": Registration.status,
        "registered_at": Registration.created_at, "arrived_at": arrivals.c.first_arrival,
        "sanitary": Registration.id,
    }


def export_select(event, filters, keys, language):
    """One SELECT of the chosen columns for the filtered participants, by region, then by name."""
    arrivals = first_arrivals(event.id)
    expressions = _expressions(language, arrivals)
    return (select(*(expressions[key].label(key) for key in keys))
            .select_from(Registration)
            .outerjoin(Region, Region.id == Registration.region_id)
            .join(Category, Category.id == Registration.category_id)
            .outerjoin(arrivals, arrivals.c.registration_id == Registration.id)
            .where(*conditions(event, filters))
            .order_by(Region.position.is_(None), Region.position, Registration.sort_key, Registration.id))


def _local(event):
    tz = event.tz

    def convert(moment):
        return as_utc(moment).astimezone(tz).replace(tzinfo=None) if moment else None

    return convert


def _cell_makers(event, keys, as_text):
    """One function per column turning a fetched value into a cell: text for CSV (as_text), or
    text, dates and times for XLSX. Built once per export: they run a million times."""
    local = _local(event)
    statuses = {code: str(label) for code, label in STATUS_LABELS.items()}
    sanitary_labels = _sanitary_labels()

    def text(value):
        return neutralize(value) if value else ""

    def reference(value):
        return f"{value[:4]}-{value[4:]}"

    def phone(value):
        return neutralize(format_phone(value)) if value else ""

    def day(value):
        if value is None:
            return ""
        return value.isoformat() if as_text else value

    def moment(value):
        value = local(value)
        if value is None:
            return ""
        return value.strftime("%Y-%m-%d %H:%M") if as_text else value

    special = {"reference": reference, "phone": phone, "birth_date": day, "registered_at": moment,
               "arrived_at": moment, "status": lambda v: statuses.get(v, v),
               "sanitary": lambda v: sanitary_labels.get(v, v or "")}
    return [special.get(key, text) for key in keys]


def _sanitary_labels():
    if not sanitary.available():
        return {}
    from ..attestations.messages import STATES

    return {code: str(label) for code, label in STATES.items()}


def _partitions(event, filters, keys, language):
    """The rows of the export in partitions of BATCH, with the sanitary state filled in where asked."""
    from ..extensions import db

    result = db.session.execute(export_select(event, filters, keys, language),
                                execution_options={"yield_per": BATCH})
    status_of = sanitary.status_function() if "sanitary" in keys else None
    position = keys.index("sanitary") if status_of else None
    for partition in result.partitions():
        if status_of is None:
            yield partition
            continue
        from ..attestations.service import statuses_for
        from ..db import utcnow

        states = statuses_for(event, [_Id(row[position]) for row in partition], utcnow())
        yield [tuple(states[v].state if i == position else v for i, v in enumerate(row)) for row in partition]


@dataclass(frozen=True)
class _Id:
    id: int


def headers(keys):
    return [str(COLUMNS[key].label) for key in keys]


def csv_chunks(event, filters, keys, language, *, delimiter=",", bom=True):
    """The CSV file as a generator of byte chunks, for a streamed response.

    UTF-8 with a byte order mark by default: without it Excel reads UTF-8 as the ANSI code page
    and Kazakh names come out garbled. Excel set to Russian or Kazakh expects `;` between fields.
    """
    makers = _cell_makers(event, keys, as_text=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(headers(keys))
    yield buffer.getvalue().encode("utf-8")
    for partition in _partitions(event, filters, keys, language):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[make(value) for make, value in zip(makers, row, strict=True)] for row in partition])
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(event, filters, keys, language, target):
    """Write the XLSX file to `target` (a file object): header row bold and frozen, widths set."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=event.slug[:31])
    for index, key in enumerate(keys, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = COLUMNS[key].width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label in headers(keys):
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    makers = _cell_makers(event, keys, as_text=False)
    for partition in _partitions(event, filters, keys, language):
        for row in partition:
            # Neutralized text never starts with "=", so openpyxl never stores it as a formula.
            sheet.append([make(value) for make, value in zip(makers, row, strict=True)])
    workbook.save(target)


# --- PDF sign-in sheets ---

SIGN_IN_KEYS = ("last_name", "first_name", "patronymic", "category", "organization")


@lru_cache(maxsize=4)
def _pdf_tools(folders):
    """WeasyPrint's font configuration, stylesheet and URL fetcher, made once per process.

    The fetcher of the badges (badges/pdf.py) reads files under static/ only: nothing comes from
    the network. DejaVu Sans is embedded: the PDF base fonts have no Cyrillic at all.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    from ..badges.pdf import StaticFilesOnly

    fetcher = StaticFilesOnly(folders.static)
    fonts = FontConfiguration()
    stylesheet = CSS(filename=str(Path(folders.static, "css", "signin.css")), url_fetcher=fetcher,
                     font_config=fonts)
    return fetcher, fonts, stylesheet


def write_signin_pdf(event, filters, language, target):
    """Sign-in sheets of the filtered participants to `target`: a section per region (delegation),
    people in Kazakh/Russian alphabetical order, numbered, with a column to sign in.

    Returns the number of people listed. Memory holds one region's names at a time (to sort them)
    and one chunk of PDF_CHUNK rows in WeasyPrint.
    """
    from weasyprint import HTML

    from ..badges.pdf import Folders
    from ..extensions import db

    folders = Folders.of(current_app)
    fetcher, fonts, stylesheet = _pdf_tools(folders)
    keys = ("region",) + SIGN_IN_KEYS
    query = export_select(event, filters, keys, language)
    rows = db.session.execute(query, execution_options={"yield_per": BATCH})
    writer = PdfWriter()
    total = 0
    with force_locale(language):
        for region, people in groupby(rows, key=lambda row: row.region):
            people = list(people)  # in name order already (export_select orders by the sort key)
            for start in range(0, len(people), PDF_CHUNK):
                html = render_template("organizer/signin_sheet.html", event=event, region=region or "—",
                                       people=people[start:start + PDF_CHUNK], first_number=start + 1,
                                       continued=start > 0, count=len(people))
                document = HTML(string=html, base_url=folders.static + "/", url_fetcher=fetcher)
                writer.append(io.BytesIO(document.write_pdf(stylesheets=[stylesheet], font_config=fonts)))
            total += len(people)
        if not total:
            html = render_template("organizer/signin_sheet.html", event=event, region="", people=[],
                                   first_number=1, continued=False, count=0)
            document = HTML(string=html, base_url=folders.static + "/", url_fetcher=fetcher)
            writer.append(io.BytesIO(document.write_pdf(stylesheets=[stylesheet], font_config=fonts)))
    writer.write(target)
    return total


def export_filename(event, extension):
    return f"participants-{event.slug}-{datetime.now(event.tz):%Y%m%d}.{extension}"
