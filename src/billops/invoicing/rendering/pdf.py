"""HTML to PDF with WeasyPrint, offline and reproducible."""

from __future__ import annotations

from typing import Any

import weasyprint  # type: ignore[import-untyped]


class NetworkFetchRefused(ValueError):
    """A document asked for a resource outside itself; WeasyPrint logs it and leaves it out."""


def refuse_network_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher for billing documents: inline `data:` resources only.

    A customer's name or a line description must never make the server fetch a URL (SSRF, tracking
    pixels, a PDF that changes with a remote file), and a document must render without a network.
    """
    if url.startswith("data:"):
        # urllib decodes data: URLs itself; nothing leaves the process
        return dict(weasyprint.default_url_fetcher(url, *args, **kwargs))
    raise NetworkFetchRefused(f"billing documents fetch nothing: {url[:80]}")


def render_pdf(html: str) -> bytes:
    """The PDF of a rendered document; the same HTML always gives the same bytes.

    WeasyPrint writes no creation or modification date unless the HTML carries
    `dcterms.created`/`dcterms.modified` meta tags (our templates do not) and no random file
    identifier unless asked, so the output depends on the HTML, the fonts and WeasyPrint's version.
    """
    document = weasyprint.HTML(string=html, url_fetcher=refuse_network_fetch, base_url=None)
    pdf: bytes = document.write_pdf(pdf_identifier=None)
    return pdf
