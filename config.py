"""Configuration classes. Every setting can be overridden from the environment."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def _database_url(default):
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver (psycopg 3).
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # None means: SQLite file in the instance folder, filled in by create_app.
    SQLALCHEMY_DATABASE_URI = _database_url("") or None
    # No pre-ping: it costs a round trip on every request (about a tenth of sign-up throughput
    # on PostgreSQL, see docs/PERFORMANCE.md). After a database restart the first request of
    # each worker meets a dead connection, answers 503 and SQLAlchemy renews the whole pool.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False, "pool_recycle": 1800}
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 15000)

    BABEL_DEFAULT_LOCALE = "kk"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("kk", "ru", "en")

    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session: phones keep forms open for hours
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False

    # Age of full legal capacity (DOMAIN.md, personal data): younger participants need a guardian's consent.
    DEFAULT_MINOR_AGE = _env_int("DEFAULT_MINOR_AGE", 18)
    # Personal-data operator named in the consent text; unset, a translated generic phrase is used.
    DATA_OPERATOR = os.environ.get("DATA_OPERATOR", "")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, app):
        if app.config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None):
            raise RuntimeError(
                "Refusing to start in production with the default SECRET_KEY: "
                "set SECRET_KEY in the environment to a long random value."
            )


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False  # tests that check CSRF switch it back on explicitly


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestConfig,
}


def config_from_env():
    return CONFIGS[os.environ.get("EVENTREG_ENV", "development")]
