"""The report in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven through
Selenium, against the seeds report that `pipeline.infer` writes (the `seeds_run` fixture, shared with
tests/test_e2e.py) and a hand-built two-story page.

Selenium uses the system chromedriver (no Selenium Manager, no download). Without chromium, chromedriver or
selenium the tests are skipped with the reason; with REPORT_BROWSER=required (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
WINDOW = (1280, 900)  # a laptop screen


def _unavailable(reason: str):
    if os.environ.get("REPORT_BROWSER") == "required":
        pytest.fail(f"browser test required but {reason}")
    pytest.skip(f"browser test skipped: {reason} (install with `apt-get install chromium chromium-driver` and "
                "`pip install -e '.[dev]'`)")


@pytest.fixture(scope="session")
def browser():  # requested before `seeds_run`, so a missing browser skips before the infer run
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed")
    if not CHROMEDRIVER.is_file():
        _unavailable(f"no chromedriver at {CHROMEDRIVER}")
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        _unavailable("no chromium executable on PATH")
    previous = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: a driver path in the Service already skips Selenium Manager
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WINDOW[0]},{WINDOW[1]}", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        if previous is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = previous


def _errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _visible_rows(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.matrix tbody tr'))"
        ".filter(r => getComputedStyle(r).display !== 'none').map(r => r.querySelector('.cid').textContent);")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_seeds_report_in_a_browser(browser, seeds_run, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    claims = _jsonl(seeds_run / "claims.jsonl")
    stances = _jsonl(seeds_run / "stances.jsonl")
    browser.get((seeds_run / "report.html").resolve().as_uri())
    assert _errors(browser) == []
    assert browser.find_element(By.TAG_NAME, "h1").is_displayed()

    # one row per claim, every claim of claims.jsonl
    assert sorted(_visible_rows(browser)) == sorted(c["id"] for c in claims)
    shot = tmp_path / "report_seeds.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # clicking a cell shows its evidence sentences, in a visible panel
    first = browser.find_element(By.CSS_SELECTOR, "table.matrix tbody tr td.c a.lab")
    row = first.find_element(By.XPATH, "./ancestor::tr")
    claim_id = row.find_element(By.CSS_SELECTOR, ".cid").text
    article_id = first.find_element(By.XPATH, "./ancestor::td").get_attribute("data-article")
    panel = browser.find_element(By.ID, first.get_attribute("data-ev"))
    assert not panel.is_displayed()
    first.click()
    assert panel.is_displayed()
    pair = next(s for s in stances if s["claim_id"] == claim_id and s["article_id"] == article_id)
    text = panel.text
    assert pair["evidence"] and any(e["sentence"][:60] in text for e in pair["evidence"])
    assert "entailment" in text and "contradiction" in text
    assert panel.find_elements(By.TAG_NAME, "mark")
    browser.save_screenshot(str(tmp_path / "report_seeds_evidence.png"))
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert not panel.is_displayed()

    # the label filter keeps the claims that some article disagrees with
    disagreed = {s["claim_id"] for s in stances if s["label"] == "disagree"}
    assert 0 < len(disagreed) < len(claims), "the seeds run should have some, not all, claims disagreed with"
    Select(browser.find_element(By.ID, "f-label")).select_by_value("disagree")
    assert sorted(_visible_rows(browser)) == sorted(disagreed)
    count = browser.find_element(By.CSS_SELECTOR, ".count").text
    assert count == f"{len(disagreed)} of {len(claims)} claims shown"
    Select(browser.find_element(By.ID, "f-label")).select_by_value("")
    assert len(_visible_rows(browser)) == len(claims)

    # the outlet filter keeps that outlet's columns
    Select(browser.find_element(By.ID, "f-outlet")).select_by_value("Bloomberg")
    heads = [h.text.split("\n")[0] for h in browser.find_elements(By.CSS_SELECTOR, "table.matrix th.col")
             if h.is_displayed()]
    assert heads == ["Bloomberg"]
    Select(browser.find_element(By.ID, "f-outlet")).select_by_value("")

    # the text search hides the claims without the words
    search = browser.find_element(By.ID, "f-q")
    search.send_keys("Putin", Keys.ENTER)  # Enter must not submit (and navigate away from) the page
    expected = {c["id"] for c in claims if "putin" in c["text"].lower()}
    assert 0 < len(expected) < len(claims)
    assert sorted(_visible_rows(browser)) == sorted(expected)
    browser.find_element(By.ID, "f-reset").click()
    assert len(_visible_rows(browser)) == len(claims)
    assert _errors(browser) == []


def test_two_story_page_in_a_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from pipeline.core.records import Event
    from pipeline.stages.report import render_html
    from tests.test_report import _sentences, _story

    one, two = _story("e1"), _story("e2", suffix="x", uncertain=("k3x", "bx"))
    events = [Event("e1", "Bridge opens", ("a", "b", "c"), ("Outlet A", "Outlet B", "Outlet C")),
              Event("e2", "Bridge closes", ("ax", "bx", "cx"), ("Outlet A", "Outlet B", "Outlet C"))]
    articles = one[1] + two[1]
    page = tmp_path / "report.html"
    page.write_text(render_html(one[0] + two[0], articles, one[2] + two[2], "Two stories", events=events,
                                sentences={a.article_id: _sentences(a.article_id) for a in articles}),
                    encoding="utf-8")
    browser.get(page.as_uri())
    assert _errors(browser) == []
    links = browser.find_elements(By.CSS_SELECTOR, "nav.index a")
    assert [a.text for a in links] == ["Bridge opens", "Bridge closes"]
    assert len(_visible_rows(browser)) == 8
    browser.find_element(By.ID, "f-contested").click()
    assert _visible_rows(browser) == ["k1", "k1x"]
    browser.find_element(By.ID, "f-contested").click()
    uncertain = browser.find_element(By.CSS_SELECTOR, "td.unc a.lab")
    assert uncertain.get_attribute("title").startswith("uncertain: ")
    uncertain.click()
    panel = browser.find_element(By.CSS_SELECTOR, ".ev.open")
    assert "uncertain" in panel.text and "The mayor opened the bridge." in panel.text
    panel.find_element(By.CSS_SELECTOR, "a.close").click()
    assert not browser.find_elements(By.CSS_SELECTOR, ".ev.open")
    assert _errors(browser) == []


def test_story_pages_of_a_feed_in_a_browser(browser, tmp_path):
    """A feed's report as an index page and one page per story (`ReportWriter(pages=...)`): the index links open
    each story's page, whose filters and evidence panels work, and its "all stories" link leads back."""
    from selenium.webdriver.common.by import By

    from pipeline.core.records import Event
    from pipeline.stages.report import ReportWriter, split_stories
    from tests.test_report import _sentences, _story

    one, two = _story("e1"), _story("e2", suffix="x", uncertain=("k3x", "bx"))
    events = [Event("e1", "Bridge opens", ("a", "b", "c"), ("Outlet A", "Outlet B", "Outlet C")),
              Event("e2", "Bridge closes", ("ax", "bx", "cx"), ("Outlet A", "Outlet B", "Outlet C"))]
    articles = one[1] + two[1]
    (tmp_path / "stories").mkdir()
    with open(tmp_path / "report.html", "w", encoding="utf-8") as out:
        writer = ReportWriter(out, "Feed", multi=True, pages=tmp_path / "stories")
        writer.add(split_stories(one[0] + two[0], articles, one[2] + two[2], events),
                   {a.article_id: _sentences(a.article_id) for a in articles})
        writer.close()
    browser.get((tmp_path / "report.html").as_uri())
    assert _errors(browser) == []
    links = browser.find_elements(By.CSS_SELECTOR, "nav.index a")
    assert [a.text for a in links] == ["Bridge opens", "Bridge closes"]
    assert not browser.find_elements(By.CSS_SELECTOR, "table.matrix")
    links[1].click()
    assert browser.current_url.endswith("/stories/story-2.html")
    assert _errors(browser) == []
    assert sorted(_visible_rows(browser)) == ["k1x", "k2x", "k3x", "k4x"]
    browser.find_element(By.ID, "f-contested").click()
    assert _visible_rows(browser) == ["k1x"]
    browser.find_element(By.ID, "f-contested").click()
    browser.find_element(By.CSS_SELECTOR, "td.unc a.lab").click()
    panel = browser.find_element(By.CSS_SELECTOR, ".ev.open")
    assert "uncertain" in panel.text and "The mayor opened the bridge." in panel.text
    panel.find_element(By.CSS_SELECTOR, "a.close").click()
    # a link straight to a panel: its shared paragraphs are filled in too (written once, in the first panel)
    browser.get((tmp_path / "stories" / "story-2.html").as_uri() + "#ev-1-3-2")
    target = browser.find_element(By.ID, "ev-1-3-2")
    assert target.is_displayed() and "Crowds cheered as she cut the ribbon." in target.text
    browser.find_element(By.CSS_SELECTOR, "a.up").click()
    assert browser.current_url.endswith("/report.html#stories")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav.index a")] == ["Bridge opens", "Bridge closes"]
    assert _errors(browser) == []
