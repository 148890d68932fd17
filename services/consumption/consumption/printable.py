"""Printable pages (the annual report, the landlord statements): French HTML from the templates folder, and the
same page as a PDF."""
from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import jinja2


def _number(value: float | None, decimals: int = 0) -> str:
    """French figures: a narrow no-break space between thousands, a decimal comma; a dash for none."""
    return "—" if value is None else f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["n"] = _number
    return env


def render(template: str, **context) -> str:
    return _environment().get_template(template).render(**context)


async def pdf(page: str) -> bytes:
    import weasyprint  # heavy: loaded only when a PDF is asked for
    return await asyncio.to_thread(lambda: weasyprint.HTML(string=page).write_pdf())
