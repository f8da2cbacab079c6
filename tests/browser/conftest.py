"""Browser fixtures: the app served on a free local port, and Debian's Chromium via Playwright."""
import os
import shutil
import threading

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def chromium_path():
    """Debian's Chromium (Playwright cannot download its own browser on these machines)."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def _buffered(app):
    """``app`` with every response body read whole before it is sent.

    When a browser moves on while a static file is still being sent (a font, say), the dev
    server's write fails and it never closes the file it was streaming: a ResourceWarning,
    which this suite turns into an error of whatever test runs at that moment. A body in
    memory leaves no file open.
    """
    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
    return wsgi


@pytest.fixture(scope="session")
def live_server(app):
    """Serve the test app in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# Assertions wait as long as actions do: on a busy machine (two cores, the suite's workers and
# its server beside the browser) a post can take seconds to answer; once it took over ten.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts (one per user); fail on any console error."""
    contexts, console_errors = [], []

    def open_page():
        # No animations: a click inside a panel that is still unfolding can be lost.
        context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900},
                                      reduced_motion="reduce")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("console", lambda msg: _record(msg, page, console_errors))
        page.on("pageerror", lambda exc: console_errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert console_errors == [], f"browser console errors: {console_errors}"


def _record(message, page, errors):
    """Keep console errors, except the page's own 4xx status (a form with errors answers 400)."""
    if message.type != "error":
        return
    if message.text.startswith("Failed to load resource") and message.location.get("url") == page.url:
        return
    errors.append(f"{message.text} ({message.location.get('url')})")


def log_in(page, email, password):
    """Log in through the real form, as a person would."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
