"""The agents' page in a real headless browser: Debian's Chromium, driven by Selenium.

The ``/agents`` Function runs under node in the double, served to the browser from loopback
by :class:`tests.twilio_double.browser_front.BrowserFront`. The browser cannot leave the
machine: every request that is not to 127.0.0.1 goes to a loopback tripwire proxy that
refuses it, and the test asserts the page loaded nothing but itself.

Without Chromium (``chromium`` + ``chromium-driver``; ``.ci/run`` installs them) or Selenium
the tests skip, saying which is missing - except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.model import Severity
from infra.naming import SHARED_ENV
from tests.test_agents_page import link, with_secret
from tests.test_journeys import Applied, applied_double
from tests.test_journeys_queue import activity, on_duty
from tests.twilio_double import TwilioDouble
from tests.twilio_double.browser_front import BrowserFront

PHONE = (390, 844)  # CSS pixels of a common phone screen


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (script/setup installs the test extra)"
    if browser_binary() is None:
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if shutil.which("chromedriver") is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def browser_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    why = _missing()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {why}")
    pytest.skip(why)


class Tripwire:
    """A loopback proxy that refuses every request and remembers it."""

    def __init__(self) -> None:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                seen.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_CONNECT = do_HEAD = _refuse  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.seen = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def tripwire() -> Iterator[Tripwire]:
    wire = Tripwire()
    yield wire
    wire.close()


@pytest.fixture(scope="module")
def browser(tripwire: Tripwire, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(browser_binary())
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        # Nothing leaves the machine: every host but 127.0.0.1 goes through the refusing
        # tripwire, and no name resolves.
        f"--proxy-server=http://{tripwire.address}",
        "--proxy-bypass-list=127.0.0.1",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    # A phone: its screen size and touch, and the meta viewport honoured as a phone does.
    options.add_experimental_option(
        "mobileEmulation",
        {
            "deviceMetrics": {
                "width": PHONE[0],
                "height": PHONE[1],
                "pixelRatio": 3.0,
                "touch": True,
            }
        },
    )
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE)


@pytest.fixture
def d(severe: Applied) -> Iterator[TwilioDouble]:
    yield from with_secret(severe)


@pytest.fixture
def front(d: TwilioDouble) -> Iterator[BrowserFront]:
    (env,) = [e for e in d.state.environments.values() if e["unique_name"] == SHARED_ENV]
    with BrowserFront(d, env["domain_name"]) as served:
        yield served


def text_of(browser: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.CSS_SELECTOR, css).text)


def press(browser: Any, label: str) -> None:
    """Tap a button and wait for the page it leads to: a marker set on the current page is
    gone once the next one has loaded (generous wait: the machine may be loaded, and each
    Function run starts node several times in the double)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    browser.execute_script("window.__tapped = true")
    (button,) = [b for b in browser.find_elements(By.TAG_NAME, "button") if b.text == label]
    button.click()
    WebDriverWait(browser, 120, ignored_exceptions=(WebDriverException,)).until(
        lambda b: b.execute_script(
            "return window.__tapped === undefined && document.readyState === 'complete'"
        )
    )


def test_an_agent_goes_off_and_on_duty_from_the_phone_page(
    d: TwilioDouble, front: BrowserFront, browser: Any, tripwire: Tripwire
) -> None:
    on_duty(d, "alice")
    browser.get(front.local(link(d, "alice")))
    assert text_of(browser, "h1") == "Alice Ng"
    assert text_of(browser, "#state") == "On Duty"
    assert text_of(browser, "#waiting-main") == "Main line: 0 callers waiting"
    assert text_of(browser, "#waiting-support") == "Customer support: 0 callers waiting"
    since = text_of(browser, "time")
    assert since and not re.match(r"\d{4}-\d\d-\d\dT", since)  # the page's script localised it

    press(browser, "Off Duty")
    assert text_of(browser, "#state") == "Off Duty"
    assert activity(d, "alice") == "Off Duty"
    assert browser.current_url == front.local(
        link(d, "alice")
    )  # back on the page: a reload repeats nothing

    press(browser, "On Duty")
    assert text_of(browser, "#state") == "On Duty"
    assert activity(d, "alice") == "On Duty"
    methods = [m for m, path in front.requests if path.startswith("/agents")]
    assert methods == ["GET", "POST", "GET", "POST", "GET"]
    assert (
        browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        == []
    )  # the page loads nothing but itself
    assert {path.split("?")[0] for _, path in front.requests} <= {"/agents", "/favicon.ico"}
    # Chromium's own background calls (Google services) reach only the refusing tripwire;
    # the page itself never asked for anything off the machine.
    assert not [r for r in tripwire.seen if "twil" in r or "127.0.0.1" in r]


def test_the_page_fits_a_phone_screen(d: TwilioDouble, front: BrowserFront, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(front.local(link(d, "carol")))
    width = browser.execute_script("return window.innerWidth")
    assert width <= PHONE[0]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    for button in browser.find_elements(By.TAG_NAME, "button"):
        assert button.size["width"] >= 0.8 * width and button.size["height"] >= 44  # thumb-sized


def test_a_tampered_link_shows_it_is_not_valid(
    d: TwilioDouble, front: BrowserFront, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    url = front.local(link(d, "alice"))
    browser.get(url[:-4] + "AAAA")
    assert text_of(browser, "h1") == "This link is not valid"
    assert browser.find_elements(By.TAG_NAME, "button") == []
