"""The reports in a real browser: headless Debian chromium loads every figure, runs into no
error, and the screenshot is a page with content (not blank)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

pytestmark = pytest.mark.browser

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

#: Injected into <head> of a copy of the page: records every error (scripts, and resources in
#: the capture phase) and, on load, whether each image decoded, as an attribute of <body>.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push(e.message || ('failed to load ' + (e.target && (e.target.src || e.target.href))));
}, true);
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var loaded = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var fetched = performance.getEntriesByType('resource').map(function (r) { return r.name; })
    .filter(function (n) { return n.indexOf('data:') !== 0; });
  document.body.setAttribute('data-probe', JSON.stringify({
    images: imgs.length, loaded: loaded, errors: window.__errors, fetched: fetched,
    height: document.body.scrollHeight}));
});
</script>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (skipped only if apt fails)."""
    found = _chromium()
    if found:
        return found
    steps = [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"could not install chromium ({' '.join(step)}): {done.stderr[-300:]}")
    found = _chromium()
    if not found:
        pytest.skip("apt-get installed chromium but no chromium binary is on PATH")
    return found


def _probe(
    chromium: str,
    page: Path,
    tmp_path: Path,
    script: str = PROBE,
    attribute: str = "data-probe",
    window: str | None = None,
) -> dict:
    """Load a copy of ``page`` with ``script`` injected; the JSON it left in ``attribute``."""
    probed = tmp_path / f"{attribute}-{page.name}"
    text = page.read_text(encoding="utf-8")
    probed.write_text(text.replace("</head>", script + "</head>", 1), encoding="utf-8")
    done = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={tmp_path / ('profile-' + attribute)}",
            *([f"--window-size={window}"] if window else []),
            "--virtual-time-budget=15000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(attribute + r'="([^"]*)"', done.stdout)
    assert match, "the page's load event never fired: " + done.stderr[-1000:]
    return json.loads(html.unescape(match.group(1)))


def _screenshot(
    chromium: str, page: Path, tmp_path: Path, height: int, width: int = 1200
) -> np.ndarray:
    shot = tmp_path / f"{page.parent.name}-shot-{width}x{height}.png"
    done = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={tmp_path / f'profile-shot-{width}'}",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    return mpimg.imread(shot)


@pytest.mark.parametrize("which", ["mnist-label-noise/report.html", "report.html"])
def test_report_renders_in_chromium(chromium: str, smoke, tmp_path: Path, which: str) -> None:
    page = smoke.out / which
    n_images = page.read_text().count("<img ")
    probe = _probe(chromium, page, tmp_path)
    assert probe["errors"] == []
    assert probe["images"] == n_images
    assert probe["loaded"] == probe["images"]  # every figure decoded
    assert probe["fetched"] == []  # nothing fetched from outside the page
    pixels = _screenshot(chromium, page, tmp_path, min(int(probe["height"]), 6000))
    rgb = pixels[..., :3]
    # a page with content: not blank, with dark text/lines and coloured figures
    assert rgb.std() > 0.05
    assert (rgb.mean(axis=2) < 0.5).mean() > 0.005
    if n_images:
        saturation = rgb.max(axis=2) - rgb.min(axis=2)
        assert (saturation > 0.3).mean() > 0.005


FIRST_SCREEN = """<script>
window.addEventListener('load', function () {
  var card = document.getElementById('findings');
  var box = card ? card.getBoundingClientRect() : null;
  document.body.setAttribute('data-card', JSON.stringify(box ? {
    top: box.top, bottom: box.bottom, width: box.width,
    lines: card.querySelectorAll('li').length,
    links: card.querySelectorAll('li a[href^="#"]').length,
    targets: Array.prototype.slice.call(card.querySelectorAll('li a[href^="#"]')).map(
      function (a) { return !!document.getElementById(a.getAttribute('href').slice(1)); }),
    viewport: [window.innerWidth, window.innerHeight]} : null));
});
</script>"""


def test_the_first_screen_shows_the_findings_card(chromium: str, smoke, tmp_path: Path) -> None:
    """Issue 17: at 1400×900 the report opens with its findings, each linked to its evidence."""
    page = smoke.out / "mnist-label-noise" / "report.html"
    card = _probe(chromium, page, tmp_path, FIRST_SCREEN, "data-card", window="1400,900")
    assert card is not None, "no findings card"
    assert card["lines"] >= 1 and card["links"] == card["lines"] and all(card["targets"])
    assert 0 <= card["top"] < 300 and card["bottom"] <= 900  # whole card on the first screen
    rgb = _screenshot(chromium, page, tmp_path, 900, width=1400)[..., :3]
    card_fill = np.all(np.abs(rgb - np.array([0xF6, 0xF8, 0xFA]) / 255) < 0.01, axis=2)
    assert card_fill.mean() > 0.02  # the card's background is on the screenshot
