"""Fixtures of the end-to-end tests: a real browser for the pages (test_publish.py: a library's page;
test_handover.py: a client's private page and handout), and a one-worker speech pool (test_piper.py,
test_hibari.py)."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--autoplay-policy=no-user-gesture-required", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--mute-audio"]


def chromium() -> tuple[str, str]:
    """Paths of Chromium and its driver, or skip (with how to install them)."""
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    return browser, driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A real headless Chromium driven by selenium, with a fresh profile."""
    binary, driver_path = chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def alone():
    """A pool of one worker: every clip is spoken by the same process, after whatever it spoke before."""
    from meditations.speaking.pool import SpeechEngine

    with SpeechEngine(workers=1) as pool:
        yield pool
