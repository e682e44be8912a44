"""The whole journey of the event day in a real browser, through the pages only, as the people would.

A volunteer signs up in Kazakh on a 360 px phone, sends a PCR certificate and opens their badge; the
organizer approves the certificate and exports the list; staff at the entrance checks the volunteer in
with a handheld scanner; the organizer's dashboard shows the arrival. Only the staff accounts are made
as an admin would, with the CLI. A screenshot of each step is written to the folder named by
JOURNEY_SCREENSHOTS, else instance/test-screenshots/journey/ (one subfolder per database), so a person
can look at them; the folder is printed (pytest -s shows it).
"""
import csv
import io
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect
from pypdf import PdfReader

from eventreg.extensions import db
from eventreg.registration.models import Registration

from .helpers import see_committed

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

ORGANIZER = ("org@example.kz", "organizer password 1")
STAFF = ("staff@example.kz", "staff password 1")

# The volunteer: a synthetic IIN from DOMAIN.md (2000-01-01, male, check digit from the second pass).
LAST_NAME, FIRST_NAME, PATRONYMIC = "Құдайбергенов", "Әлібек", "Өмірұлы"
FULL_NAME = f"{LAST_NAME} {FIRST_NAME} {PATRONYMIC}"
IIN, BIRTH_DATE = "000101500206", "2000-01-01"
EMAIL = "alibek@example.kz"
CERTIFICATE = "PCR-2021-000417"


@pytest.fixture
def screenshots(database_url):
    folder = Path(os.environ.get("JOURNEY_SCREENSHOTS") or ROOT / "instance" / "test-screenshots" / "journey")
    folder = folder / database_url.split(":", 1)[0].split("+", 1)[0]
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    print(f"\njourney screenshots: {folder}")

    def shoot(page, name, element=None, full_page=True):
        path = folder / f"{name}.png"
        if element is not None:
            element.screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=full_page)
        return path

    return shoot


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en"}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def door_phone(browser):
    """The entrance staff's phone, in Russian."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU",
                                  extra_http_headers={"Accept-Language": "ru"}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def create_account(runner, event, email, password, role):
    """As an admin would: `flask create-user EMAIL --role ROLE --event SLUG`, the password on stdin."""
    result = runner.invoke(args=["create-user", email, "--role", role, "--event", event.slug], input=password + "\n")
    assert result.exit_code == 0, result.output


def log_in(page, live_server, email, password, labels=("Email", "Password", "Log in")):
    page.goto(f"{live_server}/login")
    page.get_by_label(labels[0]).fill(email)
    page.get_by_label(labels[1]).fill(password)
    page.get_by_role("button", name=labels[2]).click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def certificate_png(path):
    """A PCR result as a phone would photograph or scan it (A4 at 150 dpi): a real PNG with Kazakh text."""
    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    lines = ["ПТР-тест нәтижесі", FULL_NAME, "SARS-CoV-2 РНҚ: анықталған жоқ", f"№ {CERTIFICATE}"]
    for number, line in enumerate(lines):
        draw.text((120, 160 + number * 110), line, fill="black", font=font)
    draw.rectangle((60, 60, 1180, 1694), outline="navy", width=8)
    image.save(path)
    return path


def decoded_qr_codes(image):
    result = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True)
    return set(result.stdout.split())


def keep_and_pass_on(route, answers):
    answer = route.fetch()
    answers.append(answer)
    route.fulfill(response=answer)


def download_by_clicking(page, button, folder):
    """Click and keep what the browser downloads, under the name the server gave it."""
    with page.expect_download() as download:
        button.click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def figure(page, name):
    """A figure of the dashboard, the element that its live refresh updates."""
    return page.locator(f'[data-figure="{name}"]')


def test_volunteer_signs_up_sends_a_certificate_is_approved_and_checked_in_and_the_dashboard_counts_them(
        app, live_server, phone, desktop, door_phone, runner, event, screenshots, tmp_path):
    app.config["WTF_CSRF_ENABLED"] = True  # every form posts its token, as in production
    create_account(runner, event, *ORGANIZER, "organizer")
    create_account(runner, event, *STAFF, "staff")
    slug = event.slug

    # 0. The organizer switches the sanitary checks on: a valid document is needed at the entrance.
    organizer = desktop
    log_in(organizer, live_server, *ORGANIZER)
    organizer.goto(f"{live_server}/organizer/events/{slug}/sanitary-policy")
    organizer.get_by_label("Enforcement at the entrance").select_option("block")
    organizer.get_by_label("A same-day health declaration is required").uncheck()
    organizer.get_by_role("button", name="Save").click()
    organizer.get_by_text("The sanitary policy has been saved.").wait_for()
    screenshots(organizer, "00-organizer-sanitary-policy")

    # 1. The volunteer signs up in Kazakh on their phone.
    volunteer = phone
    volunteer.goto(f"{live_server}/events/{slug}/register")
    assert volunteer.locator("html").get_attribute("lang") == "kk"
    volunteer.get_by_label("Тегі").fill(LAST_NAME)
    volunteer.get_by_label("Аты", exact=True).fill(FIRST_NAME)
    volunteer.get_by_label("Әкесінің аты").fill(PATRONYMIC)
    volunteer.get_by_label("ЖСН", exact=True).fill(IIN)
    volunteer.get_by_label("Туған күні").fill(BIRTH_DATE)
    volunteer.get_by_label("Ұялы телефон").fill("8 707 555 12 34")
    volunteer.get_by_label("Электрондық пошта").fill(EMAIL)
    volunteer.get_by_label("Өңір (делегация)").select_option(label="Алматы облысы")
    volunteer.get_by_role("checkbox", name="дербес деректерімді").check()
    screenshots(volunteer, "01-volunteer-sign-up-form")
    volunteer.get_by_role("button", name="Тіркелу").click()
    volunteer.wait_for_url("**/p/**")
    private_url = volunteer.url.split("?")[0]
    assert volunteer.locator("h2").filter(has_text=FULL_NAME).is_visible()
    assert "Сіз тіркелдіңіз." in volunteer.content()
    assert "Орныңыз расталды." in volunteer.locator(".status-line").first.inner_text()
    assert volunteer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshots(volunteer, "02-volunteer-private-page")

    # 2. The PCR certificate, through the sanitary documents form of the private page.
    sanitary = volunteer.locator("#sanitary")
    assert "Санитариялық талаптар" in sanitary.inner_text()
    sanitary.get_by_role("link", name="Құжат қосу").click()
    sample = datetime.now(event.tz) - timedelta(hours=3)
    volunteer.get_by_label("Құжат түрі").select_option(label="Теріс ПТР-тест")
    volunteer.get_by_label("Вакцина салынған, талдау алынған немесе анықтама берілген күн").fill(f"{sample:%Y-%m-%d}")
    volunteer.get_by_label("Талдау алынған уақыт (ПТР-тест)").fill(f"{sample:%H:%M}")
    volunteer.get_by_label("Анықтаманың нөмірі").fill(CERTIFICATE)
    volunteer.get_by_label("Құжат", exact=True).set_input_files(str(certificate_png(tmp_path / "pcr.png")))
    screenshots(volunteer, "03-volunteer-pcr-certificate-form")
    volunteer.get_by_role("button", name="Тексеруге жіберу").click()
    volunteer.wait_for_url(private_url)
    assert "Рақмет: құжатыңыз тексеруге жіберілді." in volunteer.content()
    evidence = volunteer.locator("#sanitary .evidence-list li")
    assert "Теріс ПТР-тест" in evidence.inner_text() and "Тексеруді күтуде" in evidence.inner_text()
    screenshots(volunteer, "04-volunteer-certificate-waiting-for-review")

    # 3. The badge: its QR on screen, and the PDF.
    badge_card = volunteer.locator("section.badge-code")
    assert "Сіздің бейджіңіз" in badge_card.inner_text()
    badge_card.scroll_into_view_if_needed()
    on_screen = screenshots(volunteer, "05-volunteer-badge-qr-on-screen", element=badge_card)
    # Chromium shows the PDF in its viewer: keep a copy of the answer on its way to the viewer.
    answers = []
    volunteer.route("**/badge.pdf", lambda route: keep_and_pass_on(route, answers))
    badge_card.get_by_role("link", name="Бейджімді жүктеп алу (PDF)").click()
    volunteer.wait_for_url("**/badge.pdf")
    [answer] = answers
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    badge_path = tmp_path / "badge.pdf"
    badge_path.write_bytes(answer.body())
    volunteer.wait_for_timeout(1000)  # only so that the screenshot shows the viewer's rendering
    screenshots(volunteer, "06-volunteer-badge-pdf", full_page=False)
    volunteer.go_back()
    badge_text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(badge_path).pages)
    assert LAST_NAME in badge_text and f"{FIRST_NAME} {PATRONYMIC}" in badge_text
    assert IIN not in badge_text
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(badge_path), str(tmp_path / "badge")],
                   check=True)
    [code] = decoded_qr_codes(tmp_path / "badge.png")
    assert decoded_qr_codes(on_screen) == {code}  # the phone's screen shows the same code as the paper

    # 4. The organizer approves the certificate, then exports the list.
    organizer.goto(f"{live_server}/organizer/events/{slug}/evidence")
    card = organizer.locator("section.evidence", has_text=FULL_NAME)
    assert "Negative PCR test" in card.inner_text() and CERTIFICATE in card.inner_text()
    document = card.locator("img.evidence-file")
    assert document.evaluate("img => img.complete && img.naturalWidth") == 1240
    # The whole document is in view, inside its card, for the organizer to read.
    assert document.bounding_box()["width"] <= card.bounding_box()["width"]
    screenshots(organizer, "07-organizer-review-queue")
    card.get_by_role("button", name="Accept", exact=True).click()
    organizer.get_by_text("Document accepted.").wait_for()
    assert organizer.locator("section.evidence", has_text=FULL_NAME).count() == 0
    screenshots(organizer, "08-organizer-certificate-accepted")

    organizer.goto(f"{live_server}/organizer/events/{slug}/")
    organizer.get_by_role("navigation", name="Organizer").get_by_role("link", name="Participants").click()
    row = organizer.locator("table.list tbody tr", has_text=FULL_NAME)
    assert "Almaty Region" in row.inner_text() and "Valid" in row.inner_text()
    organizer.get_by_role("checkbox", name="Sanitary status").check()
    screenshots(organizer, "09-organizer-participant-list")
    exported_csv = download_by_clicking(organizer, organizer.get_by_role("button", name="CSV", exact=True), tmp_path)
    assert exported_csv.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(exported_csv.read_text("utf-8-sig"))))
    assert "Sanitary status" in rows[0]
    assert [row for row in rows[1:] if {LAST_NAME, FIRST_NAME, EMAIL, "Valid"} <= set(row)], rows
    exported_xlsx = download_by_clicking(organizer, organizer.get_by_role("button", name="Excel (XLSX)"), tmp_path)
    assert exported_xlsx.suffix == ".xlsx"
    rows = list(load_workbook(exported_xlsx, read_only=True).active.iter_rows(values_only=True))
    assert "Sanitary status" in rows[0]
    assert [row for row in rows[1:] if {LAST_NAME, FIRST_NAME, "Valid"} <= set(row)], rows

    # The volunteer sees the approval on their page.
    volunteer.reload()
    assert "Жарамды" in volunteer.locator("#sanitary .status-line").inner_text()
    assert "Қабылданды" in volunteer.locator("#sanitary .evidence-list").inner_text()
    screenshots(volunteer, "10-volunteer-certificate-accepted")

    # The dashboard, open before anyone arrives; its timers are driven by the test's clock.
    organizer.clock.install()
    organizer.goto(f"{live_server}/organizer/events/{slug}/")
    entrance = organizer.locator("#checkpoints tbody tr", has_text="Main entrance").locator("td.num").first
    expect(figure(organizer, "counts.arrived")).to_have_text("0")
    expect(entrance).to_have_text("0")

    # 5. Staff at the entrance scans the badge with a handheld scanner (it types the code and Enter).
    door = door_phone
    log_in(door, live_server, *STAFF, labels=("Электронная почта", "Пароль", "Войти"))
    door.goto(f"{live_server}/checkin/{slug}/")
    door.get_by_role("link", name="Главный вход").click()
    door.wait_for_selector("#code:focus")
    door.keyboard.type(code, delay=0)
    door.keyboard.press("Enter")
    door.wait_for_selector("#result.result-green")
    result = door.locator("#result").inner_text()
    assert "Пропущен" in result and FULL_NAME in result
    expect(door.locator("#headcount")).to_have_text("1 внутри")  # the zone's live headcount
    screenshots(door, "11-staff-scanner-green", full_page=False)

    # 6. The dashboard's next refresh shows the arrival.
    organizer.clock.run_for(11_000)
    expect(figure(organizer, "counts.arrived")).to_have_text("1")
    expect(figure(organizer, "counts.inside")).to_have_text("1")
    expect(entrance).to_have_text("1")
    screenshots(organizer, "12-organizer-dashboard-arrival")

    see_committed()
    registration = db.session.execute(db.select(Registration)).scalar_one()
    assert (registration.iin, registration.phone, registration.language) == (IIN, "+77075551234", "kk")
