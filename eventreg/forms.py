"""The base of every form: WTForms' own messages in the user's language, loaded once per process."""
from functools import lru_cache
from pathlib import Path

import wtforms
from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

_WTFORMS_LOCALES = Path(wtforms.__file__).parent / "locale"


@lru_cache(maxsize=16)
def _wtforms_translations(locale):
    return support.Translations.load(str(_WTFORMS_LOCALES), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            # Flask-WTF would parse the catalog again on every request.
            return _wtforms_translations(str(get_locale() or "kk"))


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (templates/_forms.html renders them as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
