"""Accessibility basics checked in the browser: every control has a label, text has enough contrast
(WCAG AA, 4.5:1), the page declares its language and direction, and the keyboard reaches the
controls in order with a visible focus."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => {
    if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')) return false;
    if (e.labels && e.labels.length) return false;
    if (e.tagName === 'BUTTON' && e.textContent.trim()) return false;
    return true;
  }).map(e => e.outerHTML.slice(0, 120))"""

_LOW_CONTRAST = """() => {
  const rgb = s => { const m = s.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.offsetParent === null || !e.childNodes.length) continue;
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const fg = lum(rgb(getComputedStyle(e).color)), bg = lum(background(e));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) bad.push(`${e.tagName} "${e.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def problems(page: Page) -> list[str]:
    """What fails the basic checks on the current page (empty when it passes)."""
    found: list[str] = []
    html: dict[str, Any] = page.evaluate(
        "() => ({lang: document.documentElement.lang, dir: document.documentElement.dir})"
    )
    if not html["lang"] or html["dir"] not in ("ltr", "rtl"):
        found.append(f"html lang/dir missing: {html}")
    found += [f"no label: {e}" for e in page.evaluate(_UNLABELLED)]
    found += [f"low contrast: {e}" for e in page.evaluate(_LOW_CONTRAST)]
    return found


def tab_order(page: Page, presses: int = 12) -> list[str]:
    """The elements the Tab key visits from the top of the page, as 'tag#id' or their text."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    visited = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        visited.append(
            page.evaluate(
                "() => { const e = document.activeElement; return e.id ? e.tagName.toLowerCase() + '#' + e.id"
                " : e.tagName.toLowerCase() + ':' + (e.textContent || e.value || '').trim().slice(0, 30); }"
            )
        )
    return visited
