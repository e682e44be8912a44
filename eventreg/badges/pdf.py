"""Badge PDFs: WeasyPrint renders templates/badges/ with static/css/badge.css.

Nothing is fetched from the network: the fonts (DejaVu Sans, embedded) and the stylesheet come
from static/, and the URL fetcher refuses any other address. The QR code is inline SVG.

A single badge (`badge_pdf`) is cached in the instance folder under a key made of everything
printed on it, so it is rendered again only when something on it changes. Batches for organizers
(`badge_sheets_pdf`) are rendered in chunks and joined with pypdf, which keeps WeasyPrint's
memory bounded whatever the size of the batch (docs/BADGES.md).
"""
import hashlib
import io
import multiprocessing
import os
import tempfile
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path
from urllib.request import url2pathname

import jinja2
from babel.dates import format_interval
from flask import current_app
from pypdf import PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .qr import qr_svg
from .service import badge_code

SIZES = ("a6", "cr80", "label62")
CHUNK_SIZE = 40

# Font size of the name (pt) by the length of its longer line (characters), per layout: DejaVu
# Sans Bold takes about 0.2 mm per character and point (measured on Kazakh names), so a line of
# that length still fits the width at that size. Longer names wrap at spaces and hyphens
# (double-barrelled names), and the smallest size keeps even three 100-character fields above
# the affiliation: never clipped.
_NAME_STEPS = {
    "a6": ((12, 32), (16, 25), (20, 20), (24, 17), (28, 14.5), (34, 12)),
    "cr80": ((12, 16), (16, 14), (20, 11.5), (24, 9.5), (30, 7.5)),
    "label62": ((10, 22), (14, 18), (18, 14), (22, 11.5), (28, 9)),
}
_NAME_SMALLEST = {"a6": 11, "cr80": 6.5, "label62": 8}


@dataclass(frozen=True)
class BadgeContent:
    """Everything printed on a badge (and nothing else: no IIN, phone or email)."""

    language: str
    event_name: str
    dates: str
    last_name: str
    given_names: str
    latin_name: str
    category: str
    colour: str
    region: str
    organization: str
    reference: str
    code: str


def badge_content(registration):
    """What the registration's badge says, in the participant's own language."""
    language = registration.language or "kk"
    event = registration.event
    return BadgeContent(
        language=language,
        event_name=event.name_in(language),
        dates=format_interval(event.starts_on, event.ends_on, "yMMMMd", locale=language),
        last_name=registration.last_name,
        given_names=" ".join(p for p in (registration.first_name, registration.patronymic) if p),
        latin_name=registration.latin_name,
        category=registration.category.name_in(language),
        colour=registration.category.badge_color,
        region=registration.region.name_in(language) if registration.region else "",
        organization=registration.organization,
        reference=registration.display_reference,
        code=badge_code(registration),
    )


def name_font_size(content, size):
    """The name's font size (pt) on this layout: large, and smaller in steps as the name grows."""
    longest = max(len(content.last_name), len(content.given_names))
    for max_length, points in _NAME_STEPS[size]:
        if longest <= max_length:
            return points
    return _NAME_SMALLEST[size]


def _text_colour(background):
    """Black or white, whichever reads better on the category colour (WCAG relative luminance)."""
    try:
        channels = [int(background[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    except (ValueError, IndexError):
        return "#ffffff"
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def _printable(content, size):
    return {"content": content, "qr_svg": qr_svg(content.code), "name_pt": name_font_size(content, size),
            "band_text": _text_colour(content.colour)}


class StaticFilesOnly(URLFetcher):
    """Lets WeasyPrint read files under static/ and nothing else: no network, no other files."""

    def __init__(self, root):
        super().__init__(allowed_protocols=("file",))
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        if not url.startswith("file:"):
            raise ValueError(f"badges load nothing from the network: {url}")
        path = Path(url2pathname(url[len("file:"):].split("?")[0].split("#")[0])).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"badges load files from static/ only: {url}")
        return super().fetch(url, headers)


@dataclass(frozen=True)
class Folders:
    """Where the badge stylesheet, fonts and templates are: all a renderer needs, in any process."""

    static: str
    templates: str

    @classmethod
    def of(cls, app):
        return cls(str(Path(app.static_folder).resolve()), str(Path(app.template_folder).resolve()))


class _Renderer:
    """A process's WeasyPrint state: one FontConfiguration, the stylesheet parsed once, and the
    templates of templates/badges/ (plain Jinja: badges print in the participant's language,
    not the visitor's, so nothing from the request is needed)."""

    def __init__(self, folders):
        self.base_url = folders.static + "/"
        self.fetcher = StaticFilesOnly(folders.static)
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(filename=str(Path(folders.static, "css", "badge.css")),
                              url_fetcher=self.fetcher, font_config=self.font_config)
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(folders.templates),
                                            autoescape=True, undefined=jinja2.StrictUndefined)

    def pdf(self, template, contents, layout):
        size = "a6" if layout == "sheet" else layout
        html = self.templates.get_template(template).render(
            badges=[_printable(content, size) for content in contents], layout=layout)
        document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
        return document.write_pdf(stylesheets=[self.stylesheet], font_config=self.font_config)


@lru_cache(maxsize=4)
def _renderer(folders):
    return _Renderer(folders)


def render(folders, template, contents, layout):
    """PDF bytes of badges; runs in worker processes too (everything it takes can be pickled)."""
    return _renderer(folders).pdf(template, contents, layout)


@lru_cache(maxsize=4)
def _layout_fingerprint(folders):
    """A digest of the stylesheet, templates and fonts: a new layout makes new cache keys."""
    digest = hashlib.sha256()
    files = [Path(folders.static, "css", "badge.css"), *sorted(Path(folders.templates, "badges").glob("*.html")),
             *sorted(Path(folders.static, "fonts").glob("*.ttf"))]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _cache_key(folders, content, size):
    digest = hashlib.sha256(_layout_fingerprint(folders).encode())
    digest.update(size.encode())
    for value in astuple(content):
        digest.update(b"\0" + value.encode())
    return digest.hexdigest()[:32]


def _cache_folder(registration):
    # Per registration, so that erasing a person's data can remove their badges with it.
    return Path(current_app.instance_path) / "badges" / str(registration.event_id) / str(registration.id)


def badge_pdf(registration, size="a6"):
    """The registration's badge as PDF bytes: "a6" (105 x 148 mm, the default), "cr80" (an
    85.6 x 54 mm card) or "label62" (62 mm continuous label printers, 100 mm long).

    Served from the cache when nothing printed on the badge has changed since the last time.
    """
    if size not in SIZES:
        raise ValueError(f"unknown badge size {size!r}; choose one of {', '.join(SIZES)}")
    folders = Folders.of(current_app)
    content = badge_content(registration)
    folder = _cache_folder(registration)
    path = folder / f"{size}-{_cache_key(folders, content, size)}.pdf"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    pdf = render(folders, "badges/badges.html", [content], size)
    _store(folder, path, pdf)
    return pdf


def _store(folder, path, pdf):
    folder.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a concurrent reader sees the whole file or none.
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as temporary:
        temporary.write(pdf)
    os.replace(temporary.name, path)
    size = path.name.split("-", 1)[0]
    for stale in folder.glob(f"{size}-*.pdf"):
        if stale != path:
            stale.unlink(missing_ok=True)


def _chunks(registrations, chunk_size):
    chunk = []
    for registration in registrations:
        chunk.append(badge_content(registration))
        if len(chunk) == chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def badge_sheets_pdf(registrations, target, chunk_size=CHUNK_SIZE, processes=1):
    """Write A4 sheets of four A6 badges with crop marks, for these registrations in this order,
    to `target` (a binary file) as one PDF.

    WeasyPrint renders `chunk_size` badges at a time (keep it a multiple of 4, so that only the
    last sheet has empty places), in `processes` worker processes if more than one; pypdf joins
    the parts.
    """
    folders = Folders.of(current_app)
    writer = PdfWriter()
    # Read from the database here, in this thread: the pool's feeder thread has no app context.
    chunks = [(folders, "badges/sheets.html", chunk, "sheet") for chunk in _chunks(registrations, chunk_size)]
    if processes > 1:
        # forkserver: the workers do not inherit this process's database connections or threads.
        context = multiprocessing.get_context("forkserver")
        with context.Pool(processes) as pool:
            for pdf in pool.imap(_render_chunk, chunks):
                writer.append(io.BytesIO(pdf))
    else:
        for chunk in chunks:
            writer.append(io.BytesIO(_render_chunk(chunk)))
    writer.write(target)


def _render_chunk(arguments):
    return render(*arguments)
