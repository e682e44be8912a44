"""Badge PDFs: WeasyPrint renders templates/badges/ with static/css/badge.css.

Nothing is fetched from the network: the fonts (DejaVu Sans Badge, embedded) and the stylesheet
come from static/, and the URL fetcher refuses any other address. The QR code is drawn as vector
rectangles into its place on the laid-out page (`_DrawCodes`).

A single badge (`badge_pdf`) is cached in the instance folder under a key made of everything
printed on it, so it is rendered again only when something on it changes. Batches for organizers
(`badge_sheets_pdf`) are rendered in chunks and joined with pypdf, which keeps WeasyPrint's
memory bounded whatever the size of the batch, in as many processes as there are cores
(docs/BADGES.md).
"""
import gc
import hashlib
import io
import multiprocessing
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path
from urllib.request import url2pathname

import jinja2
import pydyf
from babel.dates import format_interval
from flask import current_app
from pypdf import PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .qr import qr_pdf_operators
from .service import badge_code

SIZES = ("a6", "cr80", "label62")
CHUNK_SIZE = 40
POOL_FROM = 250

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
_COLOUR = re.compile(r"#[0-9a-f]{6}")
_DEFAULT_COLOUR = "#1f6feb"


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


@lru_cache(maxsize=64)
def _dates(starts_on, ends_on, language):
    # Babel takes a quarter of a millisecond for this: a thousand badges of an event ask for three.
    return format_interval(starts_on, ends_on, "yMMMMd", locale=language)


def badge_content(registration):
    """What the registration's badge says, in the participant's own language."""
    language = registration.language or "kk"
    event = registration.event
    return BadgeContent(
        language=language,
        event_name=event.name_in(language),
        dates=_dates(event.starts_on, event.ends_on, language),
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


def _points_class(points):
    return "pt" + f"{points:g}".replace(".", "-")


def _colour(value):
    value = (value or "").lower()
    return value if _COLOUR.fullmatch(value) else _DEFAULT_COLOUR


def _colour_class(colour):
    return "c" + colour[1:]


def _printable(content, size, number):
    """What the template needs of a badge. The name's size and the category's colour are classes,
    not style attributes: WeasyPrint computes the style of like elements once only when none of
    them has a style attribute (docs/BADGES.md)."""
    colour = _colour(content.colour)
    return {"content": content, "qr": f"qr{number}", "colour": colour, "colour_class": _colour_class(colour),
            "name_size": _points_class(name_font_size(content, size))}


def _classes_css(colours):
    """The rules of the classes _printable gives: every name size, and these category colours."""
    sizes = {points for steps in _NAME_STEPS.values() for _, points in steps} | set(_NAME_SMALLEST.values())
    rules = [f".{_points_class(points)} {{ font-size: {points:g}pt }}" for points in sorted(sizes)]
    for colour in colours:
        rules.append(f".{_colour_class(colour)} > .event {{ border-top-color: {colour} }}")
        rules.append(f".{_colour_class(colour)} > .band {{ background: {colour}; color: {_text_colour(colour)} }}")
    return "\n".join(rules)


@contextmanager
def _collector_paused():
    """Python's cycle collector paused while WeasyPrint builds a document: its boxes and styles
    are thousands of objects per badge, which the collector would otherwise walk again and again
    as they survive its generations (a quarter of the time of a batch). Nothing of the document
    outlives it but the PDF bytes, and the collector runs as usual afterwards (it frees the few
    thousand objects WeasyPrint leaves in reference cycles in one pass)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class _DrawCodes:
    """A WeasyPrint finisher that draws each badge's QR symbol into its place on the page.

    The template marks the place with an element whose id is the badge's `qr` name and, in its
    bottom-right corner, an empty one named `<qr>-end`; WeasyPrint reports where both landed
    (`Page.anchors`, CSS pixels from the top-left corner). The symbol goes into a content stream
    of its own after the page's, which is wrapped in q/Q so that the drawing starts from the
    page's own coordinates (PDF points, from the bottom-left corner) whatever WeasyPrint left set.
    """

    def __init__(self, codes):
        self.codes = codes  # qr name -> badge code

    def __call__(self, document, pdf):
        for page, number in zip(document.pages, pdf.pages["Kids"][::3], strict=True):
            drawings = [self._symbol(code, page.anchors[name][:2], page.anchors[f"{name}-end"][:2], page.height)
                        for name, code in self.codes.items() if name in page.anchors]
            if drawings:
                page_object = pdf.objects[number]
                before, after = pydyf.Stream([b"q"]), pydyf.Stream([b"Q", *drawings], compress=True)
                pdf.add_object(before)
                pdf.add_object(after)
                page_object["Contents"] = pydyf.Array([before.reference, page_object["Contents"], after.reference])
        # The corners' ids are the only anchors of a badge document: no named destinations for them.
        names = pdf.catalog.get("Names")
        if names is not None:
            names.pop("Dests", None)
            if not names:
                del pdf.catalog["Names"]

    @staticmethod
    def _symbol(code, top_left, bottom_right, page_height):
        size, rectangles = qr_pdf_operators(code)
        (left, top), (right, bottom) = top_left, bottom_right
        scale = 0.75  # PDF points per CSS pixel
        # Module units to page points: x to the right, rows downwards from the place's top.
        matrix = (scale * (right - left) / size, 0, 0, -scale * (bottom - top) / size,
                  scale * left, scale * (page_height - top))
        return b"q %s cm 0 g\n%s\nf Q" % (" ".join(f"{value:.4f}" for value in matrix).encode(), rectangles)


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
        self.stylesheet = CSS(filename=str(Path(folders.static, "css", "badge.css")), url_fetcher=self.fetcher,
                              font_config=self.font_config)
        self.classes = {}  # the category colours of a document -> the stylesheet of its classes, parsed once
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(folders.templates),
                                            autoescape=True, undefined=jinja2.StrictUndefined)

    def _classes(self, badges):
        colours = tuple(sorted({b["colour"] for b in badges}))
        if colours not in self.classes:
            if len(self.classes) >= 64:
                self.classes.clear()
            self.classes[colours] = CSS(string=_classes_css(colours), url_fetcher=self.fetcher)
        return self.classes[colours]

    def pdf(self, template, contents, layout):
        size = "a6" if layout == "sheet" else layout
        badges = [_printable(content, size, number) for number, content in enumerate(contents)]
        html = self.templates.get_template(template).render(badges=badges, layout=layout)
        stylesheets = [self.stylesheet, self._classes(badges)]
        codes = {b["qr"]: b["content"].code for b in badges}
        with _collector_paused():
            return self._write(html, stylesheets, codes)

    def _write(self, html, stylesheets, codes):
        # A function of its own, so that the document is gone when the collector runs again.
        document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
            stylesheets=stylesheets, font_config=self.font_config)
        return document.write_pdf(finisher=_DrawCodes(codes))


@lru_cache(maxsize=4)
def _renderer(folders):
    return _Renderer(folders)


def render(folders, template, contents, layout):
    """PDF bytes of badges; runs in worker processes too (everything it takes can be pickled)."""
    return _renderer(folders).pdf(template, contents, layout)


@lru_cache(maxsize=4)
def _layout_fingerprint(folders):
    """A digest of the stylesheet, templates, fonts and of the code that draws the name and the QR
    code: a new layout makes new cache keys."""
    digest = hashlib.sha256()
    files = [Path(folders.static, "css", "badge.css"), *sorted(Path(folders.templates, "badges").glob("*.html")),
             *sorted(Path(folders.static, "fonts").glob("*.ttf")), Path(__file__), Path(__file__).with_name("qr.py")]
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


def badge_sheets_pdf(registrations, target, chunk_size=CHUNK_SIZE, processes=None):
    """Write A4 sheets of four A6 badges with crop marks, for these registrations in this order,
    to `target` (a binary file) as one PDF.

    WeasyPrint renders `chunk_size` badges at a time (keep it a multiple of 4, so that only the
    last sheet has empty places) and pypdf joins the parts in order. The chunks are rendered in
    `processes` worker processes; by default one per core this process may run on, for batches
    of POOL_FROM badges or more (a worker takes a second to start).
    """
    registrations = list(registrations)
    folders = Folders.of(current_app)
    if processes is None:
        processes = len(os.sched_getaffinity(0)) if len(registrations) >= POOL_FROM else 1
    processes = min(processes, -(-len(registrations) // chunk_size))
    writer = PdfWriter()
    # The pool starts first: its workers import WeasyPrint while this thread reads the badges
    # (from the database: the pool's feeder thread has no app context).
    with _pool(processes) as pool:
        chunks = [(folders, "badges/sheets.html", chunk, "sheet") for chunk in _chunks(registrations, chunk_size)]
        for pdf in pool.imap(_render_chunk, chunks) if pool else map(_render_chunk, chunks):
            writer.append(io.BytesIO(pdf))
    writer.write(target)


@contextmanager
def _pool(processes):
    """A pool of `processes` fresh interpreters, or None for one process. Spawned, not forked:
    a worker shares no database connection, lock or thread with the web worker that asked for
    the batch, and none stays behind once the batch is written (only multiprocessing's resource
    tracker, 12 MB, for the life of the web worker)."""
    if processes < 2:
        yield None
        return
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        yield pool


def _render_chunk(arguments):
    return render(*arguments)
