"""Configuration classes. Every setting can be overridden from the environment."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def _env_bool(name, default):
    value = os.environ.get(name)
    return value.strip().lower() in ("1", "true", "yes", "on") if value else default


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

    # Set PROXY_FIX=1 behind a reverse proxy that sets X-Forwarded-For/-Proto/-Host (and only then).
    PROXY_FIX = _env_bool("PROXY_FIX", False)
    # key=value log lines with a request id (production); the development server keeps its own.
    STRUCTURED_LOGS = _env_bool("STRUCTURED_LOGS", False)

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    # Guessing passwords: a few tries a minute per address is plenty for people who mistype.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Per address: a school's or a region's office may sign many people up through one connection,
    # so these are generous; they stop scripts, not delegations.
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "60 per minute")
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "300 per minute")
    SECRET_PAGE_RATE_LIMIT = os.environ.get("SECRET_PAGE_RATE_LIMIT", "120 per minute")

    # Only bench/checkin.py turns this on: it adds the /bench endpoints the benchmark compares against.
    BENCH_ENDPOINTS = os.environ.get("EVENTREG_BENCH_ENDPOINTS") == "1"

    # Personal data is kept this many days after an event ends, then `flask erase-expired` erases it.
    RETENTION_DAYS = _env_int("RETENTION_DAYS", 90)

    # Age of full legal capacity (DOMAIN.md, personal data): younger participants need a guardian's consent.
    DEFAULT_MINOR_AGE = _env_int("DEFAULT_MINOR_AGE", 18)
    # Personal-data operator named in the consent text; unset, a translated generic phrase is used.
    DATA_OPERATOR = os.environ.get("DATA_OPERATOR", "")

    # The site's address as participants reach it, for the links in emails queued outside a request
    # (the CLI, an import). Emails queued by a request use that request's own address.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:5000/")

    # Email (eventreg/notifications). "file" writes each message as an .eml file into
    # <instance>/outbox/ for development; "smtp" sends through MAIL_SERVER.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "file")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)  # STARTTLS on a plain connection (port 587)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)  # TLS from the first byte (port 465)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "eventreg <noreply@localhost>")
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 10)  # seconds per SMTP operation
    # After this many failed attempts a message is marked failed and the cron run leaves it alone.
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 10)
    # Off: requests only queue messages and `flask send-outbox` sends them, which keeps sign-up
    # fast under a rush (building a badge PDF and talking to SMTP take far longer than the sign-up).
    MAIL_SEND_AT_ONCE = _env_bool("MAIL_SEND_AT_ONCE", True)
    # On: a thread of the worker sends right after the response, so sign-up stays fast;
    # off: the request itself waits for the send (tests, to read the result at once).
    MAIL_SEND_IN_BACKGROUND = _env_bool("MAIL_SEND_IN_BACKGROUND", True)
    # A participant may ask to resend their confirmation once per this many seconds.
    MAIL_RESEND_INTERVAL = _env_int("MAIL_RESEND_INTERVAL", 60)

    # Sanitary evidence (eventreg/attestations): the largest document a participant may upload,
    # and how long an organizer's override of a refused entry waits for the person's next scan.
    EVIDENCE_MAX_BYTES = _env_int("EVIDENCE_MAX_BYTES", 5 * 1024 * 1024)
    SANITARY_OVERRIDE_MINUTES = _env_int("SANITARY_OVERRIDE_MINUTES", 30)


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    STRUCTURED_LOGS = _env_bool("STRUCTURED_LOGS", True)
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
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
    LOGIN_RATE_LIMIT = SIGNUP_RATE_LIMIT = SEARCH_RATE_LIMIT = SECRET_PAGE_RATE_LIMIT = "10000 per minute"
    MAIL_SEND_IN_BACKGROUND = False


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestConfig,
}


def config_from_env():
    return CONFIGS[os.environ.get("EVENTREG_ENV", "development")]
