"""Text normalization for search and sorting that works for Kazakh and Russian.

SQLite's lower()/LIKE/NOCASE fold ASCII only and PostgreSQL depends on its
collation, so we store a key computed here in Python and search on that.
"""
import re
import unicodedata

_SPACES = re.compile(r"\s+")

# Kazakh/Russian alphabetical order; letters not listed sort after, by code point.
_ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_ORDER = {letter: index for index, letter in enumerate(_ALPHABET)}


def search_key(*parts):
    """Case-folded, whitespace-collapsed, ё folded to е: the form names are searched in."""
    text = " ".join(p for p in parts if p)
    return _SPACES.sub(" ", text.casefold().replace("ё", "е")).strip()


# Each letter of the alphabet stands in for a private-use character in its place: such keys compare
# as Python strings and, stored in a binary-collated column, as database strings in the same order.
_SORTS_AS = {ord(letter): chr(0xE000 + index) for index, letter in enumerate(_ALPHABET)}


def collation_key(*parts):
    """A sort key that puts Kazakh letters where Kazakh and Russian readers expect them (after
    Latin letters and digits); parts (surname, name, ...) sort one after the other."""
    return " ".join(_SPACES.sub(" ", (part or "").casefold()).strip() for part in parts).translate(_SORTS_AS)


def clean_line(text):
    """One line of what a person typed: control characters dropped (PostgreSQL refuses NUL, and
    none of them belongs in a name), runs of whitespace made one space, ends trimmed."""
    if not isinstance(text, str):
        return text
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") or ch in "\t\n")
    return _SPACES.sub(" ", kept).strip()
