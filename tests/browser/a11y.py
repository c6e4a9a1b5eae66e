"""One check for every page a browser test reaches: axe-core finds no violation, at a phone's
width and a desktop's, and a full-page screenshot of each is kept for a person to look at.

    from tests.browser.a11y import check_page
    check_page(page, "login")

Screenshots go to build/screenshots/<name>-390.png and -1280.png (git-ignored; never commit
them). axe-core is the copy bundled in axe-playwright-python: nothing is downloaded.
"""

from __future__ import annotations

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDTHS = (390, 1280)  # a common phone, a laptop
_axe = Axe()


def check_page(page: Page, name: str) -> list[Path]:
    """Axe at each width (no violation of any rule axe runs by default, best practices
    included), then a screenshot; the viewport is put back as it was. Returns the files."""
    assert re.fullmatch(r"[a-z0-9-]+", name), name
    before = page.viewport_size
    page.wait_for_load_state("load")
    shots = []
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            results = _axe.run(page)
            assert results.violations_count == 0, (
                f"{name} at {width} px:\n{results.generate_report()}"
            )
            SHOTS.mkdir(parents=True, exist_ok=True)
            shot = SHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            shots.append(shot)
    finally:
        if before is not None:
            page.set_viewport_size(before)
    return shots
