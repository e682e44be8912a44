"""Language selection and helpers for values stored in the three UI languages."""
from flask import current_app, request, session
from flask_babel import get_locale


def select_locale():
    """The visitor's language: explicit choice (?lang=), then the session, then the browser."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language():
    locale = get_locale()
    return locale.language if locale else "kk"


class Multilingual:
    """Mixin for models with name_kk / name_ru / name_en columns."""

    def name_in(self, language):
        return getattr(self, f"name_{language}", None) or self.name_kk or self.name_ru or self.name_en

    @property
    def name(self):
        return self.name_in(current_language())
