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


def collation_key(text):
    """A sort key that puts Kazakh letters where Kazakh and Russian readers expect them."""
    folded = (text or "").casefold()
    return tuple((_ORDER.get(ch, len(_ALPHABET) + ord(ch))) for ch in folded)


def clean_line(text):
    """One line of what a person typed: control characters dropped (PostgreSQL refuses NUL, and
    none of them belongs in a name), runs of whitespace made one space, ends trimmed."""
    if not isinstance(text, str):
        return text
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") or ch in "\t\n")
    return _SPACES.sub(" ", kept).strip()
