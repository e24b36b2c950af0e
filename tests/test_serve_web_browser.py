"""``finance-tui serve web`` in a real headless browser (Debian's chromium).

Selenium drives the system chromium through the system chromedriver, given by path, with
``SE_OFFLINE=true``: selenium-manager never runs and nothing is downloaded; the browser
resolves no host but loopback. One server and one browser serve the whole module; each
test opens its own tab, which is its own app process, as for a user.

The page draws the terminal with xterm.js on a canvas, so the screen's text is read from
xterm's buffer: a script added before the page's own code notes the ``Terminal`` object
when textual-serve's page stores it (``this.terminal = new Terminal(...)``).

Set ``FINANCE_TUI_UPDATE_SCREENSHOTS=1`` to refresh docs/screenshots/web-dashboard.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from web_support import WebServer, wait_for

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "screenshots" / "web-dashboard.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
VIEWER = ("Demo_viewer", "demo@viewer2026")
SCREEN_TIMEOUT = 90.0  # generous: a busy 2-core machine runs the browser and the app


def _unavailable() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the browser tests read the server's processes from /proc (Linux only)"
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        return (
            f"{' and '.join(missing)} not installed: apt-get install -y chromium "
            "chromium-driver (.ci/run installs them)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=_unavailable() or "")

# Runs before the page's scripts: the first object stored as `.terminal` that looks like
# an xterm.js Terminal (it has a buffer) is kept as window.__financeTerminal.
TERMINAL_HOOK = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'terminal',
      {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active && !window.__financeTerminal) {
      window.__financeTerminal = value;
    }
  },
});
"""
READ_SCREEN = """
const term = window.__financeTerminal;
if (!term) { return null; }
const buffer = term.buffer.active, rows = [];
for (let y = 0; y < term.rows; y++) {
  const line = buffer.getLine(buffer.viewportY + y);
  rows.push(line ? line.translateToString(true) : '');
}
return rows.join('\\n');
"""

EXPECTED_SCRIPT = """
import json, sys
from finance_tui.startup import connect
from finance_tui.money import format_decimal
from finance_tui.session import SessionController
connect(sys.argv[1])
data = SessionController.login(sys.argv[2], sys.argv[3]).dashboard.summary("all")
print(json.dumps({
    "income": format_decimal(data.total_income),
    "expense": format_decimal(abs(data.total_expense)),
    "net": format_decimal(data.net_balance),
}))
"""


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """A demo database (the three demo accounts, 150 records) for the whole module."""
    path = tmp_path_factory.mktemp("web") / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "finance_tui", "demo", "--db", str(path), "--records", "150"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory) -> Iterator[WebServer]:
    web = WebServer(demo_db, cwd=tmp_path_factory.mktemp("server")).start()
    try:
        yield web
    finally:
        status = web.stop()
        assert web.leftover_children() == [], web.log_text()
        assert status == 0, web.log_text()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    previous = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(SCREEN_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()
        if previous is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = previous


class Tab:
    """One browser tab on a page, with the terminal's screen as text."""

    def __init__(self, driver, url: str) -> None:
        self.driver = driver
        driver.switch_to.new_window("tab")
        self.handle = driver.current_window_handle
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TERMINAL_HOOK})
        driver.get(url)

    def screen(self) -> str:
        self.driver.switch_to.window(self.handle)
        return self.driver.execute_script(READ_SCREEN) or ""

    def wait_text(self, *texts: str, timeout: float = SCREEN_TIMEOUT) -> str:
        def shows_all() -> str | None:
            screen = self.screen()
            return screen if all(t in screen for t in texts) else None

        try:
            return wait_for(shows_all, timeout, f"{texts} on the screen")  # type: ignore[return-value]
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen shows:\n{self.screen()}") from None

    def type(self, keys: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.switch_to.window(self.handle)
        self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(keys)

    def title_line(self) -> str:
        """The screen's title (the first line that is not blank)."""
        return next((line.strip() for line in self.screen().splitlines() if line.strip()), "")

    def close(self) -> None:
        self.driver.switch_to.window(self.handle)
        self.driver.close()
        self.driver.switch_to.window(self.driver.window_handles[0])


@pytest.fixture
def tab(browser, server) -> Iterator[Tab]:
    opened = Tab(browser, f"{server.url}/")
    try:
        yield opened
    finally:
        if opened.handle in browser.window_handles:
            opened.close()


def log_in_as_viewer(tab: Tab) -> str:
    tab.wait_text("Username or email", "Password")
    tab.type(f"{VIEWER[0]}\t{VIEWER[1]}\n")
    return tab.wait_text("Dashboard — All time", "Demo_viewer (viewer)")


def test_viewer_logs_in_and_sees_the_dashboard_numbers(tab, server, demo_db, tmp_path):
    login = tab.wait_text("finance-tui", "Username or email", "Password", "Log in")
    assert "Dashboard" not in login  # the page starts at the login screen
    expected = json.loads(
        subprocess.run(
            [sys.executable, "-c", EXPECTED_SCRIPT, demo_db, *VIEWER],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    )
    log_in_as_viewer(tab)
    screen = tab.wait_text(
        f"+{expected['income']}", f"-{expected['expense']}", expected["net"], "Records"
    )
    assert "1 Dashboard  2 Records  7 Account" in screen  # a viewer's screens only
    time.sleep(1)  # let the charts finish drawing for the picture
    tab.driver.save_screenshot(str(tmp_path / "web-dashboard.png"))
    assert (tmp_path / "web-dashboard.png").stat().st_size > 10_000
    if os.environ.get("FINANCE_TUI_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(tmp_path / "web-dashboard.png", SCREENSHOT)


def test_admin_keys_stay_inert_for_a_viewer(tab):
    log_in_as_viewer(tab)
    for key, title in (("5", "Users"), ("6", "Audit log")):
        tab.type(key)
        time.sleep(2)  # time for a screen change that must not come
        screen = tab.screen()
        assert tab.title_line().startswith("Dashboard — All time"), screen
        assert not any(line.strip().startswith(title) for line in screen.splitlines()), screen
    tab.type("2")  # the same keyboard path does work for a key the viewer has
    wait_for(lambda: tab.title_line().startswith("Records"), SCREEN_TIMEOUT, "the Records screen")


def test_closing_the_tab_ends_its_app_process(browser, server):
    before = set(server.children())
    tab = Tab(browser, f"{server.url}/")
    tab.wait_text("Username or email")
    (pid,) = wait_for(lambda: set(server.children()) - before, 60, "the tab's app process")
    tab.close()
    wait_for(lambda: pid not in server.children(), 60, f"app process {pid} to end")
    assert f"ended: pid {pid}" in server.log_text()


@pytest.fixture
def other_site(tmp_path) -> Iterator[str]:
    """A page on another origin (another port) that tries the app's websocket."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_of_another_origin_cannot_open_a_session(browser, server, other_site, tmp_path):
    (tmp_path / "attack.html").write_text(
        "<script>"
        f"const ws = new WebSocket('ws://127.0.0.1:{server.port}/ws?width=80&height=24');"
        "ws.onopen = () => { document.title = 'opened'; };"
        "ws.onclose = () => { if (document.title !== 'opened') document.title = 'refused'; };"
        "</script>"
    )
    before = set(server.children())
    tab = Tab(browser, f"{other_site}/attack.html")
    try:
        title = wait_for(
            lambda: browser.title if browser.title in ("opened", "refused") else None,
            SCREEN_TIMEOUT,
            "the websocket to open or be refused",
        )
    finally:
        tab.close()
    assert title == "refused"
    assert f"Origin '{other_site}' is not {server.url}" in server.log_text()
    assert set(server.children()) <= before
