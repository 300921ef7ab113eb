"""The HTML of every display object in a real browser (headless Chromium through Playwright).

Each object's ``text/html`` is placed in a page styled like a JupyterLab output area, once with JupyterLab's
light theme variables and once with the dark theme's (the values below are copied from
``@jupyterlab/theme-light-extension`` and ``theme-dark-extension``, ``style/variables.css``, with the Material
colours they reference resolved), and also with no variables at all (static HTML) and with only VS Code's.
Checked:

- every element that holds text has a contrast ratio of at least 4.5:1 (WCAG AA) between its computed colour
  and the background it sits on, composited up the tree;
- the hostile names and comments (``<script>``, ``<img onerror>``) execute nothing: ``window.__pwned`` stays
  undefined, and the outputs hold no ``<script>``, ``<img>`` or ``on*`` attribute;
- the scoped styles do not leak: an element outside the outputs keeps the page's own styling;
- the translation report wraps its cells between words, never inside one, at a usual and a narrow width;
- the history timeline (inline SVG) fills its markers with the theme's status colours, labels apart.

Every object includes the newer views: highlighted SQL (``diff --out sql``, migration files), the JSON form of a
diff, the timeline and the translation report.

Screenshots go to ``tests/notebook/screenshots/`` (git-ignored); the path is printed.

Skipped only when ``/usr/bin/chromium`` is missing and ``CI`` is unset; in CI it always runs
(``scripts/test.sh`` installs Chromium when it can).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import samples

from dbwarden_nb.notebook import display

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
MIN_CONTRAST = 4.5

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium); CI is unset", allow_module_level=True)

COMMON = """
  --jp-ui-font-size1: 13px;
  --jp-ui-font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif;
  --jp-code-font-family: Menlo, Consolas, 'DejaVu Sans Mono', monospace;
"""
THEMES = {
    "light": COMMON + """
  --jp-layout-color0: white;
  --jp-layout-color1: white;
  --jp-layout-color2: #eeeeee;
  --jp-ui-font-color0: rgba(0, 0, 0, 1);
  --jp-ui-font-color1: rgba(0, 0, 0, 0.87);
  --jp-ui-font-color2: rgba(0, 0, 0, 0.54);
  --jp-content-font-color1: rgba(0, 0, 0, 0.87);
  --jp-border-color0: #bdbdbd;
  --jp-border-color1: #bdbdbd;
  --jp-border-color2: #e0e0e0;
  --jp-brand-color1: #1976d2;
  --jp-success-color1: #388e3c;
  --jp-warn-color1: #f57c00;
  --jp-error-color1: #d32f2f;
  --jp-info-color1: #0097a7;
  --jp-rendermime-table-row-background: #f5f5f5;
  --jp-rendermime-table-row-hover-background: #e1f5fe;
  --jp-mirror-editor-keyword-color: #008000;
  --jp-mirror-editor-number-color: #080;
  --jp-mirror-editor-string-color: #ba2121;
  --jp-mirror-editor-comment-color: #408080;
  --jp-mirror-editor-variable-2-color: #05a;
""",
    "dark": COMMON + """
  --jp-layout-color0: #111;
  --jp-layout-color1: #212121;
  --jp-layout-color2: #424242;
  --jp-ui-font-color0: rgba(255, 255, 255, 1);
  --jp-ui-font-color1: rgba(255, 255, 255, 0.87);
  --jp-ui-font-color2: rgba(255, 255, 255, 0.54);
  --jp-content-font-color1: rgba(255, 255, 255, 1);
  --jp-border-color0: #616161;
  --jp-border-color1: #616161;
  --jp-border-color2: #424242;
  --jp-brand-color1: #2196f3;
  --jp-success-color1: #4caf50;
  --jp-warn-color1: #ff9800;
  --jp-error-color1: #f44336;
  --jp-info-color1: #00bcd4;
  --jp-rendermime-table-row-background: #212121;
  --jp-rendermime-table-row-hover-background: rgba(3, 169, 244, 0.2);
  --jp-mirror-editor-keyword-color: #4caf50;
  --jp-mirror-editor-number-color: #66bb6a;
  --jp-mirror-editor-string-color: #ff7070;
  --jp-mirror-editor-comment-color: #408080;
  --jp-mirror-editor-variable-2-color: #2196f3;
""",
    # no variables at all: static HTML (nbconvert without the lab theme, a web page); the fallbacks apply
    "static": "",
    # VS Code's notebook webview defines --vscode-* variables, not --jp-* ones
    "vscode-dark": """
  --vscode-editor-foreground: #cccccc;
  --vscode-editor-background: #1f1f1f;
  --vscode-panel-border: rgba(128, 128, 128, 0.35);
""",
}

# A few of JupyterLab's own rendermime rules (packages/rendermime/style/base.css), which the scoped styles must
# override where they would hurt (right-aligned cells, zebra rows).
PAGE_CSS = """
body { margin: 12px; background: var(--jp-layout-color0, var(--vscode-editor-background, white));
       color: var(--jp-ui-font-color1, var(--vscode-editor-foreground, black));
       font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); }
h2.label { font: 600 12px monospace; margin: 18px 0 4px; }
.jp-RenderedHTMLCommon table { border-collapse: collapse; border-spacing: 0; border: none; font-size: 12px;
       table-layout: fixed; margin-left: auto; margin-right: auto; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { text-align: right; vertical-align: middle; padding: 0.5em; }
.jp-RenderedHTMLCommon tbody tr:nth-child(odd) { background: var(--jp-rendermime-table-row-background); }
.jp-RenderedHTMLCommon tbody tr:hover { background: var(--jp-rendermime-table-row-hover-background); }
.jp-RenderedHTMLCommon pre { background: var(--jp-layout-color2); }
#outside { color: rgb(1, 2, 3); }
"""

# Runs in the page (the fragments under test hold no script; this is the harness measuring them).
CONTRAST_JS = r"""
() => {
  const parse = (text) => {
    let m = text.match(/^rgba?\(([^)]*)\)$/);
    if (m) {
      const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = text.match(/^color\(srgb ([^)]*)\)$/);
    if (m) {
      const p = m[1].split(/[\s\/]+/).filter(Boolean).map((v) => (v === 'none' ? 0 : Number(v)));
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    throw new Error('unparsed colour ' + text);
  };
  const over = (top, below) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + below[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) layers.push(parse(getComputedStyle(e).backgroundColor));
    let colour = [255, 255, 255, 1];  // the canvas
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const results = [];
  for (const el of document.querySelectorAll('.dbw, .dbw *')) {
    if (el.tagName === 'STYLE') continue;
    const text = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
    if (!text) continue;
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    results.push({
      ratio: (l1 + 0.05) / (l2 + 0.05),
      tag: el.tagName.toLowerCase(),
      cls: el.className || '',
      text: text.slice(0, 40),
      color: getComputedStyle(el).color,
      render: el.closest('.dbw').id,
    });
  }
  return results;
}
"""


def page_html(theme: str, fragments: dict[str, str]) -> str:
    outputs = "".join(
        f'<h2 class="label">{name}</h2>'
        f'<div class="jp-OutputArea-output jp-RenderedHTMLCommon jp-RenderedHTML" data-mime-type="text/html">'
        f"{html}</div>"
        for name, html in fragments.items()
    )
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>:root {{{THEMES[theme]}}}\n{PAGE_CSS}</style>'
            f'</head><body data-jp-theme-light="{str(theme == "light").lower()}"><p id="outside">outside</p>'
            f"{outputs}</body></html>")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[dev]' (or pip install playwright)", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def fragments() -> dict[str, str]:
    with display.fixed_ids():
        return {name: display.render_html(obj) for name, obj in samples.engine_objects().items()}


@pytest.mark.parametrize("theme", list(THEMES))
def test_contrast_and_no_script_execution(browser, fragments, theme, capsys):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(page_html(theme, fragments), wait_until="load")
    page.wait_for_timeout(200)  # an onerror handler would have fired by now

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('.dbw script, .dbw img, .dbw iframe, .dbw object').length") == 0
    assert page.evaluate(
        "Array.from(document.querySelectorAll('.dbw *')).filter(e => Array.from(e.attributes)"
        ".some(a => a.name.startsWith('on'))).length"
    ) == 0
    assert page.evaluate("getComputedStyle(document.getElementById('outside')).color") == "rgb(1, 2, 3)"
    assert len(fragments) == page.evaluate("document.querySelectorAll('div.dbw').length")
    assert not errors

    page.evaluate("document.querySelectorAll('.dbw details').forEach(d => d.open = true)")
    results = page.evaluate(CONTRAST_JS)
    assert len(results) > 300  # every object contributed text
    worst = min(results, key=lambda r: r["ratio"])
    failing = [r for r in results if r["ratio"] < MIN_CONTRAST]
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / f"{theme}.png"
    page.screenshot(path=str(shot), full_page=True)
    with capsys.disabled():
        print(f"\n[{theme}] {len(results)} text elements, minimum contrast {worst['ratio']:.2f}:1 "
              f"({worst['tag']}.{worst['cls']} {worst['text']!r}); screenshot: {shot}")
    page.close()
    assert not failing, f"{theme}: text below {MIN_CONTRAST}:1: {failing[:5]}"


BROKEN_WORDS_JS = r"""
() => {
  const broken = [];
  for (const cell of document.querySelectorAll('.dbw-translation td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        if (range.getClientRects().length > 1) broken.push(m[0]);  // one box per line the word sits on
      }
    }
  }
  const wrapper = document.querySelector('.dbw-translation').closest('.dbw');
  return {broken, overflows: wrapper.scrollWidth > wrapper.clientWidth};
}
"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [900, 620])
def test_translation_columns_wrap_between_words(browser, theme, width):
    """Types, defaults, names and reasons wrap at spaces, never inside a word; a usual output width holds the
    whole report, a narrow one scrolls it rather than cut a word."""
    with display.fixed_ids():
        fragment = display.render_html(samples.translation_report())
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_content(page_html(theme, {"translation": fragment}), wait_until="load")
    found = page.evaluate(BROKEN_WORDS_JS)
    page.close()
    assert found["broken"] == [], found
    assert found["overflows"] is (width < 700), found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_history_timeline_draws_in_the_theme(browser, theme):
    """The timeline's markers are filled with the theme's status colours and its labels sit apart, in the
    foreground colour (contrast: test_contrast_and_no_script_execution)."""
    with display.fixed_ids():
        fragment = display.render_html(samples.reports()["history"])
    page = browser.new_page(viewport={"width": 900, "height": 600})
    page.set_content(page_html(theme, {"history": fragment}), wait_until="load")
    drawn = page.evaluate("""() => {
        const svg = document.querySelector('.dbw svg.dbw-timeline');
        const box = (e) => e.getBoundingClientRect();
        const labels = Array.from(svg.querySelectorAll('text')).map(box);
        const overlapping = labels.some((a, i) => labels.some((b, j) => i < j &&
            a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
        return {width: box(svg).width, overlapping, color: getComputedStyle(svg.querySelector('text')).color,
                fills: Array.from(svg.querySelectorAll('circle')).map((c) => getComputedStyle(c).fill)};
    }""")
    page.close()
    expected = {"light": ["rgb(56, 142, 60)", "rgb(245, 124, 0)"], "dark": ["rgb(76, 175, 80)", "rgb(255, 152, 0)"]}
    assert drawn["fills"] == expected[theme]  # applied, partial: --jp-success-color1, --jp-warn-color1
    assert drawn["width"] > 150 and not drawn["overlapping"]
    assert drawn["color"] == ("rgba(0, 0, 0, 0.87)" if theme == "light" else "rgba(255, 255, 255, 0.87)")


def test_large_snapshot_stays_usable(browser):
    """2,000 collapsed tables: the page lays out quickly and only the summaries are visible."""
    with display.fixed_ids():
        fragment = display.render_html(samples.big_snapshot(2000))
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    started = time.perf_counter()
    page.set_content(page_html("light", {"big": fragment}), wait_until="load")
    page.evaluate("document.body.getBoundingClientRect()")  # force layout
    load_ms = (time.perf_counter() - started) * 1000
    assert page.evaluate("document.querySelectorAll('.dbw details:not(.dbw-s)').length") == 2000
    assert page.evaluate("document.querySelectorAll('.dbw details.dbw-s').length") == 20
    height = page.evaluate("document.body.scrollHeight")
    assert height < 2000  # twenty collapsed runs of 100 tables: one screen, not 2,000 rows
    assert page.evaluate("document.querySelectorAll('.dbw details[open]').length") == 0
    # a collapsed table's column grid is not rendered
    assert page.evaluate("document.querySelector('.dbw details:not(.dbw-s) table').checkVisibility()") is False
    ms = page.evaluate("""() => { const t = performance.now();
        document.querySelectorAll('.dbw details').forEach(d => d.open = true);
        document.body.getBoundingClientRect(); return performance.now() - t; }""")
    print(f"\n2,000-table snapshot ({len(fragment) / 1e6:.2f} MB): loaded and laid out in {load_ms:.0f} ms, "
          f"{height}px tall collapsed; expanding every table: {ms:.0f} ms")
    page.close()
