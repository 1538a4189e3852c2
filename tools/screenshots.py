"""Take the README's screenshots from a running demo: `billops serve` first, then
`python tools/screenshots.py http://127.0.0.1:8000 clerk PASSWORD`. Uses Debian's Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def main(base: str, username: str, password: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        for name, path in [("customers", "/customers/"), ("trial-balance", "/ledger/trial-balance/"),
                           ("audit-log", "/audit/?verify=1")]:  # fmt: skip
            page.goto(f"{base}{path}")
            page.screenshot(path=str(OUT / f"{name}.png"))
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
