"""Health check, languages and error pages."""
import pytest

from eventreg.extensions import db


def test_healthz_answers_200_with_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(app, tmp_path):
    from config import TestConfig
    from eventreg import create_app

    broken = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://127.0.0.1:1/none")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_sign_up_page_speaks_kazakh_when_the_browser_asks_for_no_language_we_have(client, event):
    page = client.get(f"/events/{event.slug}/register", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert '<html lang="kk">' in page.text
    assert "«Асыл жүрек» республикалық волонтерлар слеті" in page.text
    assert "Ақмола облысы" in page.text
    assert "Тіркелу" in page.text and "Тегі" in page.text


def test_refusals_are_explained_in_kazakh(client, event):
    from .helpers import sign_up_form

    response = client.post(f"/events/{event.slug}/register", headers={"Accept-Language": "kk"},
                           data=sign_up_form(event, iin="000101500002", phone="123"))
    assert response.status_code == 422
    assert "ЖСН" in response.text  # the IIN message, in Kazakh
    assert "+7 701 234 56 78" in response.text


def test_language_follows_the_browser_and_the_explicit_choice(client, event):
    url = f"/events/{event.slug}/register"
    assert '<html lang="ru">' in client.get(url, headers={"Accept-Language": "ru-RU,ru;q=0.9"}).text
    assert "Акмолинская область" in client.get(url, headers={"Accept-Language": "ru"}).text
    page = client.get(url + "?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in page.text and "Akmola Region" in page.text
    assert '<html lang="en">' in client.get(url, headers={"Accept-Language": "ru"}).text  # remembered


def test_unknown_page_is_a_friendly_404_in_the_visitors_language(client):
    response = client.get("/no/such/page?lang=en")
    assert response.status_code == 404
    assert "This page does not exist" in response.text


def test_responses_carry_security_headers_and_a_request_id(client, event):
    headers = client.get(f"/events/{event.slug}/register").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert len(headers["X-Request-ID"]) >= 8
    assert client.get("/healthz", headers={"X-Request-ID": "proxy-id-123"}).headers["X-Request-ID"] == "proxy-id-123"


def test_pages_need_no_inline_script(client, event, sign_up):
    """The CSP forbids inline scripts, so no page may rely on one (JSON data blocks are not scripts)."""
    import re

    private = sign_up().headers["Location"]
    for url in (f"/events/{event.slug}/register", private, "/login", "/"):
        html = client.get(url).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
    assert db is not None


def test_database_unreachable_gives_a_clear_503_not_a_stack_trace(app):
    from config import TestConfig
    from eventreg import create_app

    broken = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://127.0.0.1:1/none")
    response = broken.test_client().get("/events/asyl-jurek-2021/register?lang=en")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "temporarily unavailable" in response.text
    assert "Traceback" not in response.text and "psycopg" not in response.text


@pytest.mark.parametrize("path", ["/events/ab%00cd/register", "/events/asyl-jurek-2021/p/ab%00cd",
                                  "/organizer/events/asyl-jurek-2021/participants?q=a%00b"])
def test_a_nul_in_a_page_url_is_a_400_not_a_database_error(client, event, path):
    response = client.get(path)
    assert response.status_code == 400 and "Traceback" not in response.text
