"""Headers every response carries, and the request id that ties a log line to a request."""
import logging
import secrets
import time

from flask import abort, g, request

# Pages load scripts, styles and images only from this site (no CDN may see personal data, and
# an injected <script> cannot run). qr-scanner starts its decoder as a blob: worker; uploaded
# health documents are shown in a same-site frame.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def url_has_nul():
    """True when the path or the query string holds a NUL character: no slug, secret, reference or
    search of ours does, and PostgreSQL text cannot hold one (the query would fail with a 500)."""
    return "\x00" in request.path or any("\x00" in value for value in request.args.values())


def init_security(app):
    @app.before_request
    def _start_request():
        # A proxy's id (X-Request-ID) is kept so one request can be followed across both logs.
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else secrets.token_hex(8)
        g.request_started = time.perf_counter()
        if request.blueprint != "api" and url_has_nul():  # the API answers this in JSON itself
            abort(400)

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith(("/events/", "/organizer/", "/desk/", "/checkin/", "/api/", "/login")):
            # Personal data and secrets: never kept by a shared cache or the browser's back button.
            headers.setdefault("Cache-Control", "no-store")
        headers["X-Request-ID"] = g.get("request_id", "")
        _log_request(app, response)
        return response


def _log_request(app, response):
    """One structured line per request; never the query string (it may carry a search for a name)."""
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0
    app.logger.info("request", extra={"request_id": g.get("request_id", ""), "method": request.method,
                                      "path": request.path, "status": response.status_code,
                                      "duration_ms": round(duration_ms, 1)})


class StructuredFormatter(logging.Formatter):
    """key=value lines a log collector can parse, with the request id when there is one."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms")

    def format(self, record):
        parts = [f"time={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}", f"level={record.levelname.lower()}",
                 f"logger={record.name}", f"msg={record.getMessage()!r}"]
        parts += [f"{field}={getattr(record, field)}" for field in self.FIELDS if hasattr(record, field)]
        if record.exc_info:
            parts.append(f"exc={self.formatException(record.exc_info)!r}")
        return " ".join(parts)


def configure_logging(app):
    if app.config.get("STRUCTURED_LOGS"):
        handler = logging.StreamHandler()
        handler.setFormatter(StructuredFormatter())
        app.logger.handlers[:] = [handler]
        app.logger.setLevel(logging.INFO)
        app.logger.propagate = False
