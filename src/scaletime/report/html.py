"""A self-contained HTML page: images inlined as base64 PNG, tables as HTML, no external asset.

The page is assembled from :class:`Section` objects; it only lays out what the analysis computed
and the figures drew (``scaletime.report.figures``).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from scaletime import __version__

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #444; margin-top: .3rem; }
table { border-collapse: collapse; font-size: .82rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: right; }
th { background: #f5f5f7; } td:first-child, th:first-child { text-align: left; }
.meta { color: #666; font-size: .85rem; } .verdict-holds { color: #1a7f37; font-weight: 600; }
.verdict-partly { color: #9a6700; font-weight: 600; } .verdict-fails { color: #cf222e; font-weight: 600; }
nav a { margin-right: .8rem; font-size: .85rem; }
.scroll { overflow-x: auto; } code { font-size: .85rem; }
table.text td, table.text th { text-align: left; vertical-align: top; }
h3 { font-size: 1rem; margin-top: 1.4rem; }
#findings { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .2rem 1rem; }
#findings h2 { border: 0; margin-top: .6rem; } ul.findings { padding-left: 1.1rem; }
ul.findings li { margin: .35rem 0; } .verdict-not-tested { color: #666; font-weight: 600; }
"""


@dataclass
class Figure:
    """A PNG image and the caption printed under it (numbered by :func:`render`)."""

    png: bytes
    caption: str
    alt: str = ""


@dataclass
class Section:
    """One titled part of the page: paragraphs, a trusted HTML fragment, tables, figures."""

    title: str
    text: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    html: str = ""  # pre-rendered trusted fragment (e.g. the claims table)

    @property
    def anchor(self) -> str:
        return "".join(ch if ch.isalnum() else "-" for ch in self.title.lower()).strip("-")


def _figure(f: Figure, number: int) -> str:
    data = base64.b64encode(f.png).decode()
    alt = html.escape(f.alt or f.caption[:120])
    return (
        f'<figure id="figure-{number}"><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption><b>Figure {number}.</b> {html.escape(f.caption)}</figcaption></figure>"
    )


def _table(caption: str, df: pd.DataFrame) -> str:
    if df.empty:
        return f"<p class='meta'>{html.escape(caption)}</p>" if caption else ""
    body = df.to_html(index=False, border=0, float_format=lambda x: f"{x:.4g}", na_rep="–")
    body = f"<div class='scroll'>{body}</div>"
    return f"<p class='meta'>{html.escape(caption)}</p>{body}" if caption else body


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def render(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole page as one string."""
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>{html.escape(subtitle)} · scaletime {__version__} · "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p><nav>{nav}</nav>",
    ]
    number = 0
    for s in sections:
        parts.append(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>')
        if s.text:
            parts.append(_paragraphs(s.text))
        parts.append(s.html)
        parts.extend(_table(c, t) for c, t in s.tables)
        for f in s.figures:
            number += 1
            parts.append(_figure(f, number))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
