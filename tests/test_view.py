"""The interactive view (sim/viz/app.py, scripts/view) in a real browser: Debian's chromium driven by Playwright.

The server is started as ``scripts/view`` starts it (solara run, production mode, telemetry and version check off);
the browser may reach nothing but the server (every other request is aborted and counted as a failure), so the
page is shown to render offline. Chromium is Debian's package (``/usr/bin/chromium``): the set-up installs it with
apt when it is missing and skips, saying why, only when apt cannot. Playwright's own browser download is not used.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara")
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
SERVER = "http://127.0.0.1"


def _chromium() -> str:
    """Debian's chromium, installed with apt when missing."""
    found = shutil.which("chromium")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip("chromium is not installed and there is no apt-get to install it (Debian's 'chromium' package)")
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get needs root: run 'apt-get install chromium' as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chromium is not installed and {' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get installed chromium but no 'chromium' is on PATH")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server():
    """The view, served as scripts/view serves it, on a free port."""
    port = _free_port()
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", "PYTHONPATH": str(ROOT)}
    solara = Path(sys.executable).with_name("solara")
    command = [str(solara), "run", "sim/viz/app.py", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--production", "--no-open", "--no-check-version"]
    log = open(ROOT / ".view-test-server.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"{SERVER}:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("the view's server did not start:\n" + (ROOT / ".view-test-server.log").read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        server_log = (ROOT / ".view-test-server.log").read_text()
        (ROOT / ".view-test-server.log").unlink()
        assert "Traceback" not in server_log, server_log[-3000:]


@pytest.fixture(scope="module")
def browser():
    path = _chromium()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


class View:
    """One browser session on the view, offline: any request off the server fails the test."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        page = self.page
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

        def only_the_server(route):
            if route.request.url.startswith(url):
                route.continue_()
            else:
                self.problems.append(f"request off the server (the page must work offline): {route.request.url}")
                route.abort()

        page.route("**/*", only_the_server)
        page.goto(url)
        self.running().wait_for(timeout=30_000)

    def running(self):
        return self.page.get_by_text("Running:")

    def summary(self) -> str:
        return self.running().locator("xpath=..").inner_text()

    def wait_for_day(self, day: int) -> None:
        self.page.get_by_text(f"school day {day} of").wait_for(timeout=20_000)

    def press(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def choose(self, label: str, option: str) -> None:
        self.page.locator(".v-select", has_text=label).click()
        self.page.get_by_role("option", name=option, exact=True).click()

    def check(self) -> None:
        assert "Traceback" not in self.page.inner_text("body")
        assert self.problems == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def view(server, browser):
    opened = View(browser, server)
    yield opened
    opened.close()


def test_page_renders_offline_with_no_errors_and_step_advances(view, tmp_path):
    assert "hackney_pilot" in view.summary() and "school day 0 of" in view.summary()
    for day in (1, 2):
        view.press("Step")
        view.wait_for_day(day)
    view.check()
    png = view.page.screenshot(full_page=True)
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png))[..., :3]
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert pixels.std() > 0.05 and len(colours) > 200, "the screenshot looks blank"
    images = view.page.locator("img")
    assert images.count() >= 3  # rates, map, contacts by type
    assert all(images.nth(i).evaluate("i => i.naturalWidth") > 100 for i in range(images.count()))


def test_changing_the_scenario_and_pressing_reset_runs_the_new_scenario(view):
    view.choose("Policing model", "no_police")
    view.choose("Borough", "small")
    seed = view.page.get_by_role("textbox", name="Seed", exact=True)
    seed.fill("7")
    seed.press("Enter")
    view.press("Reset")
    view.page.get_by_text("Running: no_police").wait_for(timeout=20_000)
    assert "seed 7" in view.summary() and "school day 0 of" in view.summary()
    assert "(with" not in view.summary()  # the sliders left alone pass no parameter: every default as declared
    view.press("Step")
    view.wait_for_day(1)
    assert "no_police" in view.summary()
    view.check()


def test_play_runs_days_until_paused_and_paired_mode_steps_two_models(view):
    view.choose("Compare with", "embedded_officer")
    view.press("Reset")
    view.page.get_by_text("Running: hackney_pilot vs embedded_officer").wait_for(timeout=20_000)
    view.press("▶")
    view.wait_for_day(2)
    view.press("❚❚")
    view.check()


def test_two_sessions_have_models_of_their_own(server, browser):
    first, second = View(browser, server), View(browser, server)
    try:
        for day in (1, 2):
            first.press("Step")
            first.wait_for_day(day)
        assert "school day 0 of" in second.summary()
        second.press("Step")
        second.wait_for_day(1)
        assert "school day 2 of" in first.summary()
        first.check()
        second.check()
    finally:
        first.close()
        second.close()


def test_results_tab_opens_a_sweep_folder_and_filters_it(view, tmp_path):
    from clihelpers import make_sweep_folder

    folder = make_sweep_folder(tmp_path / "sweep")
    view.page.get_by_role("tab", name="Sweep results").click()
    box = view.page.get_by_role("textbox", name="Sweep folder", exact=True)
    box.fill(str(folder))
    box.press("Enter")
    view.page.get_by_text("summary.csv: 4 of 4 rows").wait_for(timeout=20_000)
    view.choose("Scenario", "no_police")
    view.page.get_by_text("summary.csv: 2 of 4 rows").wait_for(timeout=20_000)
    view.choose("Outcome", "crime_records_per_1000")
    view.page.get_by_text("summary.csv: 1 of 4 rows").wait_for(timeout=20_000)
    assert view.page.get_by_text("outcomes", exact=True).count() == 1  # the figure's title
    view.check()
