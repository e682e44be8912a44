"""The badge fonts: DejaVu Sans cut down to the letters badges print, made once and committed.

    python -m eventreg.badges.fonts     # writes static/fonts/DejaVuSansBadge{,-Bold}.ttf

The full DejaVu Sans files have 6,000 glyphs; WeasyPrint hands the whole font to HarfBuzz to cut
out the glyphs of each PDF, and Pango loads its tables, on every badge. These copies keep Latin
(with the extensions that cover the 2021 Kazakh Latin alphabet and passport spellings), Cyrillic
(Russian and the nine Kazakh letters), combining accents, punctuation, № and ₸, and drop the
hinting instructions, which printers at 300 dpi and more do not use. The glyphs that badges print
come first: WeasyPrint keeps every glyph slot up to the last one used in the font it embeds,
and Cyrillic sat after a thousand others. A badge renders about a fifth faster and its PDF is
smaller (docs/BADGES.md). Any other character is still printed, from a font of the system (Pango
falls back as usual).

The family is renamed "DejaVu Sans Badge", so that neither Fontconfig nor a reader mistakes the
copies for the full fonts; the licence (static/fonts/DejaVu-LICENSE.txt) allows modified copies
under any name without "Bitstream" or "Vera".
"""
import io
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.reorderGlyphs import reorderGlyphs

FAMILY = "DejaVu Sans Badge"
# (source file, target file, style name)
FACES = (("DejaVuSans.ttf", "DejaVuSansBadge.ttf", "Book"),
         ("DejaVuSans-Bold.ttf", "DejaVuSansBadge-Bold.ttf", "Bold"))
UNICODES = (
    *range(0x0020, 0x007F),  # Basic Latin
    *range(0x00A0, 0x0250),  # Latin-1, Latin Extended-A and -B: ä ğ ı ñ ö ş ū ü and passport spellings
    *range(0x0300, 0x0370),  # combining accents (names typed in decomposed form)
    *range(0x0400, 0x0530),  # Cyrillic and its supplement: Ә Ғ Қ Ң Ө Ұ Ү Һ І and every Russian letter
    *range(0x1E00, 0x1F00),  # Latin Extended Additional
    *range(0x2010, 0x2028),  # dashes, quotation marks, bullet, ellipsis
    *range(0x2030, 0x203B),  # per mille, primes, single guillemets
    0x20B8,  # ₸
    0x2116,  # №
    0x2212,  # minus
    0xFFFD,  # replacement character
)
# The characters of nearly every badge, whose glyphs go first.
KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
FIRST = (*range(0x0020, 0x007F), *range(0x0400, 0x0460), *map(ord, KAZAKH), *map(ord, "«»–—“”‘’№₸\u00a0"))


def build(source_folder, target_folder):
    """Write the cut-down faces into target_folder; returns their paths."""
    options = subset.Options()
    options.layout_features = ["*"]  # kerning, ligatures, combining marks
    options.hinting = False
    options.drop_tables += ["FFTM", "MATH"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    written = []
    for source, target, style in FACES:
        font = TTFont(Path(source_folder, source), recalcTimestamp=False)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=UNICODES)
        subsetter.subset(font)
        font = _reloaded(font)
        _put_first(font, FIRST)
        _rename(font, style)
        path = Path(target_folder, target)
        font.save(path)
        written.append(path)
    return written


def _reloaded(font):
    # Reordering glyphs right after subsetting, in the same object, leaves composite glyphs (á,
    # ё, ң) pointing at their components' old numbers: go through the file format once.
    data = io.BytesIO()
    font.save(data)
    data.seek(0)
    return TTFont(data, recalcTimestamp=False)


def _put_first(font, characters):
    cmap = font.getBestCmap()
    first = dict.fromkeys([".notdef", *(cmap[c] for c in characters if c in cmap)])
    reorderGlyphs(font, [*first, *(name for name in font.getGlyphOrder() if name not in first)])


def _rename(font, style):
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    names = {1: FAMILY, 2: style, 3: f"{postscript};subset", 4: f"{FAMILY} {style}".replace(" Book", ""),
             6: postscript, 16: FAMILY, 17: style}
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names:
            table.removeNames(nameID=record.nameID)
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)  # Windows, Unicode BMP, English
        table.setName(value, name_id, 1, 0, 0)  # Macintosh, Roman, English


def main():
    fonts = Path(__file__).resolve().parents[2] / "static" / "fonts"
    for path in build(fonts, fonts):
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    sys.exit(main())
