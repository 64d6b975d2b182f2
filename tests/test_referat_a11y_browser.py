"""WCAG 2.1 A/AA of the HTML draft, checked in a real browser: Debian's Chromium, driven by
selenium through chromium-driver, running axe-core 4.x (vendored under tests/vendor/axe-core,
never downloaded). One browser session for the whole module; it opens a Norwegian and an English
draft of a meeting with every part present and asserts axe finds nothing, plus what axe cannot
judge: placeholders that do not rely on colour, the print stylesheet, the heading outline and
the attendance table's header cells and caption.

Skipped, saying why, only when chromium or chromedriver is not installed; .ci/run installs both.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.referat import compile_draft
from storage.db import Database
from tests.rich_referat import LONG_LAST_NAME, NOW, build_rich_meeting

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _binary("chromium", "chromium-browser")
CHROMEDRIVER = _binary("chromedriver", "chromium-driver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="chromium and chromium-driver are not installed "
    "(apt-get install chromium chromium-driver; .ci/run does this in CI)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--lang=nb-NO",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _axe(driver: Any) -> dict[str, Any]:
    """Inject the vendored axe-core into the open page and run it with the WCAG 2.x A/AA tags."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
          .then(r => done({version: axe.version, violations: r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))}))
          .catch(e => done({error: String(e)}));
        """,
        WCAG_TAGS,
    )
    assert "error" not in result, result
    return result


# What axe cannot judge, read from the rendered page in one script.
_FACTS = """
const heads = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]);
const tables = [...document.querySelectorAll('table')].map(t => ({
  caption: t.caption ? t.caption.textContent.trim() : '',
  headers: [...t.querySelectorAll('th')].map(th => th.getAttribute('scope')),
}));
const placeholders = [...document.querySelectorAll('.placeholder')].map(p => {
  const s = getComputedStyle(p);
  return {text: p.textContent.trim(), fontStyle: s.fontStyle};
});
const sheets = [...document.styleSheets];
const printRules = sheets.flatMap(s => [...s.cssRules]).filter(r => r.media && r.media.mediaText === 'print')
  .flatMap(r => [...r.cssRules]).map(r => r.cssText);
return {heads, tables, placeholders, printRules, lang: document.documentElement.lang,
        title: document.title};
"""


def _draft_box_display(driver: Any, media: str) -> str:
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
    try:
        shown: str = driver.execute_script(
            "const b = document.querySelector('.draft-box');"
            "return b ? getComputedStyle(b).display : 'absent';"
        )
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    return shown


@pytest.mark.parametrize("locale", ["nb", "en"])
async def test_draft_has_no_wcag21_aa_violations_in_chromium(
    sqlite_db: Database, browser: Any, tmp_path: Path, locale: str
) -> None:
    fx = await build_rich_meeting(sqlite_db, locale=locale)
    draft = await compile_draft(sqlite_db, fx.meeting_id, "html", now=NOW)
    assert draft is not None and draft.text is not None
    # the fixture really has every part the check is meant to cover
    for part in (
        "draft-box",
        "placeholder",
        "<caption>",
        "<ul>",
        "<ol",
        "work-group",
        "follow-ups",
        LONG_LAST_NAME,
        "æ",
        "ø",
        "å",
    ):
        assert part in draft.text, part
    page = tmp_path / draft.filename
    page.write_bytes(draft.content)
    browser.get(page.as_uri())

    result = _axe(browser)
    assert result["version"] == AXE_VERSION
    assert result["violations"] == [], "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in result["violations"]
    )

    facts: dict[str, Any] = browser.execute_script(_FACTS)
    assert facts["lang"] == locale
    assert facts["title"].startswith(
        {"nb": "UTKAST: Referat fra møte", "en": "DRAFT: Minutes of the"}[locale]
    )

    # one h1, and no heading level skipped on the way down
    heads: list[int] = facts["heads"]
    assert heads[0] == 1 and heads.count(1) == 1, heads
    for before, after in itertools.pairwise(heads):
        assert after <= before + 1, f"h{before} followed by h{after}: {heads}"
    assert {2, 3, 4} <= set(heads)

    # the attendance table: a caption, and every header cell says what it heads
    assert facts["tables"], "no attendance table"
    for table in facts["tables"]:
        assert table["caption"], table
        assert table["headers"] and all(scope in ("col", "row") for scope in table["headers"]), table

    # placeholders say they are placeholders in words and in type, not only by colour
    placeholders = facts["placeholders"]
    assert len(placeholders) >= 3
    for placeholder in placeholders:
        assert placeholder["text"].startswith("[") and placeholder["text"].endswith("]"), placeholder
        assert placeholder["fontStyle"] == "italic", placeholder

    # a print stylesheet exists and keeps the note to the secretariat off paper
    assert facts["printRules"], "no @media print rules"
    assert _draft_box_display(browser, "screen") != "none"
    assert _draft_box_display(browser, "print") == "none"
