"""The admin console in a real browser (headless Chromium, Debian's, driven by selenium through
/usr/bin/chromedriver) against a real daphne process: every key page read from the rendered DOM —
right to left, Persian digits only (scripts' text too), Jalali dates, no English label — with a
screenshot of each in the test's tmp folder, and the organization tree opened and closed by clicks.

Chromium is installed by `make browser` (part of `make test`); missing, these tests FAIL and say so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.admin_pages import problems
from tests.live_server import Daphne, ServerDatabase

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SENIOR, PASSWORD = "0010000011", "mana-demo-1402"

# The demo, and one referral with a history: events (one returned for correction) and a
# performance saved twice. Prints the ids the pages are opened by.
SEED = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
django.setup()
from decimal import Decimal
from models.demo import load_demo
from models.indicators import Assignment, ReferralStatus
from models.referrals import Performance, Referral, ReferralEvent
from models.users import User
load_demo(current_period=False)
senior = User.objects.get(national_code="0010000011")
leader = User.objects.get(national_code="0010000021")
assignment = Assignment.objects.order_by("pk").first()
referral = Referral.objects.create(
    assignment=assignment, referrer=senior, assignee=leader, organization=assignment.organization,
    target=assignment.target, deadline=assignment.deadline, status=ReferralStatus.RETURNED,
)
ReferralEvent.objects.create(referral=referral, actor=senior, to_status=ReferralStatus.IN_PROGRESS)
ReferralEvent.objects.create(
    referral=referral, actor=leader, from_status=ReferralStatus.IN_PROGRESS, to_status=ReferralStatus.SUBMITTED
)
ReferralEvent.objects.create(
    referral=referral, actor=senior, from_status=ReferralStatus.SUBMITTED, to_status=ReferralStatus.RETURNED,
    reason="مستند پیوست نشده است",
)
performance = Performance.objects.create(referral=referral, value=Decimal("1250.5"), updated_by=leader)
performance.value = Decimal(1300)
performance.is_registry_based = True
performance.save()
print(json.dumps({"referral": referral.pk, "performance": performance.pk, "period": assignment.period_id}))
"""


def browser_tools() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: these tests drive Debian's Chromium. "
            "Install it with `make browser` (apt-get install chromium chromium-driver); `make test` does."
        )


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """(a signed-in browser, the server's base URL, the seeded ids, the screenshot folder)."""
    browser_tools()
    import json

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    tmp_path = tmp_path_factory.mktemp("admin_browser")
    with ServerDatabase(tmp_path, "adminbrowser") as database:
        ids = json.loads(database.run("-c", SEED).strip().splitlines()[-1])
        with Daphne(database.env, tmp_path / "daphne.log") as server:
            options = Options()
            options.binary_location = CHROMIUM
            # As root, on a closed network: no sandbox, no background connections (they are refused).
            for flag in (
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,1000",
                "--lang=fa",
                f"--user-data-dir={tmp_path / 'chromium'}",
            ):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
            try:
                driver.set_page_load_timeout(30)
                driver.get(f"{server.base}/admin/login/")
                login_page = driver.page_source
                driver.find_element(By.NAME, "username").send_keys("۰۰۱۰۰۰۰۰۱۱")  # Persian digits are read
                driver.find_element(By.NAME, "password").send_keys(PASSWORD)
                driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
                assert driver.current_url.endswith("/admin/"), driver.current_url
                shots = tmp_path / "screenshots"
                shots.mkdir()
                yield driver, server.base, ids, shots, login_page
            finally:
                driver.quit()


def open_page(console, path: str, name: str) -> str:
    """Opens ``path``, saves its screenshot as ``name``.png, checks the rendered DOM; its HTML."""
    from selenium.webdriver.common.by import By

    driver, base, _, shots, _ = console
    driver.get(base + path)
    driver.save_screenshot(str(shots / f"{name}.png"))
    assert driver.execute_script("return document.documentElement.dir") == "rtl"
    assert driver.execute_script("return document.documentElement.lang") == "fa"
    html = driver.page_source
    assert problems(html) == [], f"{path} (screenshot {shots / name}.png)"
    # What is on the screen, as the browser lays it out: words with Latin letters (codes «MOE-HQ»,
    # «IR-23») may hold Latin digits, no other word may.
    words = driver.find_element(By.TAG_NAME, "body").text.split()
    assert [w for w in words if re.search(r"[0-9]", w) and not re.search(r"[A-Za-z]", w)] == [], path
    return html


def test_login_page(console):
    login_page = console[4]
    assert problems(login_page) == []
    assert 'dir="rtl"' in login_page and "کد ملی" in login_page


def test_index(console):
    html = open_page(console, "/admin/", "01-index")
    assert "پیشخوان مدیریت سکوی معنا" in html and "کارهای پس‌زمینه" in html


def test_the_organization_tree_opens_and_closes(console):
    from selenium.webdriver.common.by import By

    driver = console[0]
    open_page(console, "/admin/mana/organization/", "02-organizations")

    def shown() -> list[str]:
        rows = driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        return [row.find_element(By.CSS_SELECTOR, ".tree-node a").text for row in rows if row.is_displayed()]

    everything = shown()
    assert "وزارت نیرو" in everything and "شرکت آب منطقه‌ای تهران" in everything
    ministry = driver.find_element(By.XPATH, "//span[@class='tree-node'][a[text()='وزارت نیرو']]/button")
    ministry.click()
    closed = shown()
    assert ministry.get_attribute("aria-expanded") == "false"
    assert "وزارت نیرو" in closed and "وزارت جهاد کشاورزی" in closed
    assert "ستاد وزارت نیرو" not in closed and "شرکت آب منطقه‌ای تهران" not in closed
    driver.save_screenshot(str(console[3] / "03-organizations-ministry-closed.png"))
    ministry.click()
    assert shown() == everything
    driver.find_element(By.CSS_SELECTOR, "[data-tree-action=collapse]").click()
    roots = shown()
    assert roots == ["سازمان اداری و استخدامی کشور"], roots
    driver.find_element(By.CSS_SELECTOR, "[data-tree-action=expand]").click()
    assert shown() == everything
    # A row selected: the counter the admin's script writes is in Persian digits too.
    driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr input.action-select").click()
    counter = driver.find_element(By.CSS_SELECTOR, ".action-counter").text
    assert re.fullmatch(r"۱ از [۰-۹]+ انتخاب شده‌اند", counter), counter


def test_a_referral_and_its_history(console):
    referral = console[2]["referral"]
    html = open_page(console, f"/admin/mana/referral/{referral}/change/", "04-referral")
    labels = ("نسخه", "زمان ایجاد", "انجام‌دهنده", "از وضعیت", "به وضعیت", "برگشت برای اصلاح", "مستند پیوست نشده است")
    for words in labels:
        assert words in html, words
    assert re.search(r"[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}", html)
    open_page(console, f"/admin/mana/referral/{referral}/history/", "05-referral-history")
    open_page(console, "/admin/mana/referralevent/?to_status=RETURNED", "06-referral-events")


def test_a_performances_history(console):
    performance = console[2]["performance"]
    html = open_page(console, f"/admin/mana/performance/{performance}/history/", "07-performance-history")
    assert "۱۲۵۰.۵" in html and "۱۳۰۰" in html and "بله" in html and "تغییردهنده" in html


def test_the_period_form(console):
    html = open_page(console, f"/admin/mana/evaluationperiod/{console[2]['period']}/change/", "08-period")
    assert 'value="۱۴۰۲/۱۰/۱۰"' in html


def test_the_settings_page(console):
    html = open_page(console, "/admin/mana/sitesettings/", "09-settings")
    assert "تنظیمات سکو" in html and "روزهای کاری" in html
