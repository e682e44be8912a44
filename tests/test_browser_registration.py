"""A volunteer signs up in Kazakh on a phone-sized screen, in a real browser."""
import pytest

from eventreg.extensions import db
from eventreg.registration.models import Registration

from .helpers import see_committed

pytestmark = pytest.mark.browser


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_volunteer_signs_up_in_kazakh_on_a_phone(live_server, phone, event, tmp_path):
    page = phone
    page.goto(f"{live_server}/events/{event.slug}/register")
    assert page.locator("html").get_attribute("lang") == "kk"
    assert no_horizontal_scroll(page)
    page.get_by_label("Тегі").fill("Сәрсенбаева")
    page.get_by_label("Аты", exact=True).fill("Әйгерім")
    page.get_by_label("ЖСН", exact=True).fill("950501400007")
    page.get_by_label("Туған күні").fill("1995-05-01")
    page.get_by_label("Ұялы телефон").fill("8 701 234 56 78")
    page.get_by_label("Электрондық пошта").fill("aigerim@example.kz")
    page.get_by_label("Өңір (делегация)").select_option(label="Алматы облысы")
    page.get_by_role("checkbox", name="дербес деректерімді").check()
    page.screenshot(path=str(tmp_path / "form.png"), full_page=True)
    page.get_by_role("button", name="Тіркелу").click()

    page.wait_for_url("**/p/**")
    assert "Сәрсенбаева Әйгерім" in page.locator("h2").first.inner_text()
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(tmp_path / "private.png"), full_page=True)
    see_committed()
    registration = db.session.execute(db.select(Registration)).scalar_one()
    assert (registration.phone, registration.region.code, registration.language) == ("+77012345678", "ALM", "kk")


def test_a_wrong_iin_is_explained_in_kazakh_next_to_the_field(live_server, phone, event):
    page = phone
    page.goto(f"{live_server}/events/{event.slug}/register")
    page.get_by_label("Тегі").fill("Сәрсенбаева")
    page.get_by_label("ЖСН", exact=True).fill("000101500002")
    page.get_by_role("button", name="Тіркелу").click()
    error = page.locator("#iin-error")
    assert error.is_visible()
    assert "ЖСН" in error.inner_text()
    assert page.get_by_label("ЖСН", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Тегі").input_value() == "Сәрсенбаева"  # what was typed is kept
    see_committed()
    assert db.session.execute(db.select(Registration)).first() is None


def test_the_language_can_be_switched(live_server, phone, event):
    page = phone
    page.goto(f"{live_server}/events/{event.slug}/register")
    page.get_by_role("link", name="Рус").click()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_label("Фамилия", exact=True).is_visible()
