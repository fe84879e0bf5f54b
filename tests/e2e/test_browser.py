"""Real-browser tests: Debian's Chromium driven by playwright (never a downloaded browser),
against the real roster on both backends.

The browser reaches the server as http://roster.test:<port> (a host-resolver rule maps that
name to 127.0.0.1 and every other name to "not found"), so nothing leaves the machine, and
code that only stays quiet on localhost or 127.0.0.1 (Swagger UI's validator badge, for one)
would still show up among the recorded requests.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from e2e_helpers import chromium_path, png_image

PAGE_HOST = "roster.test"
TIMEOUT_MS = 15_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    f"--host-resolver-rules=MAP {PAGE_HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

expect.set_options(timeout=TIMEOUT_MS)

# Never let playwright fetch a browser of its own.
os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"


@dataclass
class Browser:
    page: Page
    base_url: str  # http://roster.test:<port>
    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.status == 200, path

    def foreign_requests(self, *allowed_origins: str) -> list[str]:
        """Requests to anything but the server (and the given origins)."""
        allowed = {self.base_url, *allowed_origins}
        foreign = []
        for url in self.requests:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if f"{parts.scheme}://{parts.netloc}" not in allowed:
                foreign.append(url)
        return foreign

    def assert_healthy(self) -> None:
        assert not self.page_errors, f"uncaught errors in the page: {self.page_errors}"
        assert not self.csp_violations, f"Content-Security-Policy violations: {self.csp_violations}"


@pytest.fixture(scope="session")
def playwright_driver():
    chromium_path()  # fails with the install command when Debian's chromium is missing
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright_driver, roster, tmp_path):
    """A fresh headless Chromium (its own empty profile) recording every request."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1200, "height": 900},
        service_workers="block",
    )
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        port = urllib.parse.urlsplit(roster.base_url).port
        recorder = Browser(page=page, base_url=f"http://{PAGE_HOST}:{port}")
        context.on("request", lambda request: recorder.requests.append(request.url))
        page.on("pageerror", lambda error: recorder.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: recorder.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None,
        )
        yield recorder
    finally:
        context.close()


def screenshot(browser: Browser, artifacts, name: str) -> None:
    directory = artifacts / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    browser.page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def document_operations(roster) -> set[tuple[str, str]]:
    status, _, body = roster.request("GET", "/openapi.json")
    assert status == 200
    return {
        (method.upper(), path)
        for path, item in json.loads(body)["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def avatar_file(name="avatar.png", width=48, height=40, rgb=(200, 60, 40)) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_image(width, height, rgb)}


def avatar_origin(roster) -> str:
    parts = urllib.parse.urlsplit(roster.avatar_origin)
    return f"{parts.scheme}://{parts.netloc}"


# --- /docs ------------------------------------------------------------------------------


def test_swagger_ui_renders_every_operation_and_requests_only_the_server(
    roster, browser, artifacts
):
    expected = document_operations(roster)
    browser.goto("/docs")
    blocks = browser.page.locator(".opblock")
    expect(blocks).to_have_count(len(expected))
    rendered = set()
    for index in range(blocks.count()):
        block = blocks.nth(index)
        method = block.locator(".opblock-summary-method").inner_text().strip().upper()
        path = block.locator(".opblock-summary-path").get_attribute("data-path")
        rendered.add((method, path))
    assert rendered == expected
    screenshot(browser, artifacts, f"docs-{roster.backend}")
    assert browser.foreign_requests() == []
    browser.assert_healthy()


def test_swagger_ui_try_it_out_creates_a_user_from_an_image_file(roster, browser, artifacts):
    email = f"swagger-{roster.backend}@example.com"
    browser.goto("/docs")
    operation = browser.page.locator("#operations-Users-createUser")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    body = operation.locator(".opblock-section-request-body")
    body.locator('tr[data-property-name="name"] input').fill("Swagger Tryout")
    body.locator('tr[data-property-name="email"] input').fill(email)
    body.locator('tr[data-property-name="avatar"] input[type=file]').set_input_files(
        avatar_file()
    )
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text("201")
    expect(
        operation.locator(".live-responses-table tr.response .response-col_description")
    ).to_contain_text(email)
    operation.scroll_into_view_if_needed()
    screenshot(browser, artifacts, f"docs-try-it-out-{roster.backend}")

    code, _, stored = roster.request("GET", "/user/" + urllib.parse.quote(email))
    assert code == 200
    assert json.loads(stored)["name"] == "Swagger Tryout"
    assert browser.foreign_requests() == []
    browser.assert_healthy()


# --- / ----------------------------------------------------------------------------------


def user_item(browser: Browser, email: str):
    return browser.page.get_by_role("listitem").filter(has_text=email)


def test_users_page_adds_a_user_whose_avatar_renders(roster, browser, artifacts):
    # Markup in a name must come out as text, never as HTML.
    name = "Zoë <b>Añadida</b>"
    email = f"added-{roster.backend}@example.com"
    browser.goto("/")
    page = browser.page
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Avatar image").set_input_files(avatar_file(width=48, height=40))
    page.get_by_role("button", name="Add user").click()

    expect(page.get_by_role("status").filter(has_text="Added")).to_contain_text(email)
    item = user_item(browser, email)
    expect(item).to_have_count(1)
    expect(item.locator(".name")).to_have_text(name)
    image = item.get_by_role("img", name=f"Avatar of {name}")
    expect(image).to_have_attribute("alt", f"Avatar of {name}")
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0",
        arg=image.element_handle(),
        timeout=TIMEOUT_MS,
    )
    natural = image.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    assert natural == [48, 40]

    code, _, stored = roster.request("GET", "/user/" + urllib.parse.quote(email))
    assert code == 200
    avatar_url = json.loads(stored)["avatar_url"]
    source = image.get_attribute("src")
    assert urllib.parse.urljoin(browser.base_url + "/", avatar_url).endswith(
        urllib.parse.urlsplit(source).path
    )
    screenshot(browser, artifacts, f"users-{roster.backend}")
    assert browser.foreign_requests(avatar_origin(roster)) == []
    browser.assert_healthy()


def test_users_page_shows_the_api_error_detail_when_an_add_is_refused(
    roster, browser, artifacts
):
    browser.goto("/")
    page = browser.page
    page.get_by_label("Name").fill("Bad Email")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Avatar image").set_input_files(avatar_file())
    page.get_by_role("button", name="Add user").click()

    # The same refusal straight from the API: the page must show its `detail`.
    code, problem = roster.create_user("Bad Email", "not-an-email")
    assert code == 422
    alert = page.get_by_role("alert").filter(has_text="Could not add")
    expect(alert).to_contain_text(problem["detail"])
    expect(page.get_by_role("listitem")).to_have_count(0)
    # The form keeps what was typed, so it can be corrected.
    expect(page.get_by_label("Email")).to_have_value("not-an-email")
    screenshot(browser, artifacts, f"users-refused-{roster.backend}")
    assert browser.foreign_requests(avatar_origin(roster)) == []
    browser.assert_healthy()


def test_users_page_delete_button_removes_only_that_user(roster, browser, artifacts):
    # A valid address that only survives the trip as one percent-encoded path segment:
    # unencoded, `#` starts a fragment, `?` a query, `/` a new segment, `%41` decodes to A.
    doomed = "ann.o'neil+tag#x?y%41/z@example.com"
    kept = "kept@example.com"
    assert roster.create_user("Ann O'Neil", doomed)[0] == 201
    status, kept_user = roster.create_user("Kept User", kept)
    assert status == 201
    browser.goto("/")
    page = browser.page
    expect(page.get_by_role("listitem")).to_have_count(2)

    page.get_by_role("button", name=f"Delete Ann O'Neil ({doomed})").click()
    expect(user_item(browser, doomed)).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Deleted")).to_contain_text(doomed)
    expect(user_item(browser, kept)).to_have_count(1)

    assert roster.request("GET", "/user/" + urllib.parse.quote(doomed, safe=""))[0] == 404
    assert roster.request("GET", "/user/" + kept)[0] == 200
    page.reload()
    expect(page.get_by_role("listitem")).to_have_count(1)
    expect(user_item(browser, kept)).to_have_count(1)
    assert kept_user["email"] == kept
    assert browser.foreign_requests(avatar_origin(roster)) == []
    browser.assert_healthy()


def test_users_page_is_labelled_and_operable_by_keyboard(roster, browser):
    email = f"keyboard-{roster.backend}@example.com"
    assert roster.create_user("Key Board", email)[0] == 201
    browser.goto("/")
    page = browser.page
    expect(user_item(browser, email)).to_have_count(1)

    # Every form control has a label; every image has a text alternative.
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
                 .filter(control => control.labels.length === 0)
                 .map(control => control.outerHTML)"""
    )
    assert unlabelled == []
    without_alt = page.evaluate(
        """() => Array.from(document.querySelectorAll('img'))
                 .filter(image => !image.alt.trim()).map(image => image.outerHTML)"""
    )
    assert without_alt == []
    docs = page.get_by_role("link", name=re.compile("API documentation"))
    expect(docs).to_have_attribute("href", "/docs")

    # Tab reaches the form fields in order, then the user's delete button; Enter deletes.
    delete = page.get_by_role("button", name=f"Delete Key Board ({email})")
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.textContent")
        )
        if delete.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail(f"Tab never reached the delete button; focus went through {reached}")
    order = [entry for entry in reached if entry in ("name", "email", "avatar", "add-button")]
    assert order == ["name", "email", "avatar", "add-button"], reached
    page.keyboard.press("Enter")
    expect(user_item(browser, email)).to_have_count(0)
    # Focus is not lost to the document body when the focused item disappears.
    assert page.evaluate("() => document.activeElement.id") == "users-heading"
    assert roster.request("GET", "/user/" + email)[0] == 404
    browser.assert_healthy()
