"""HTTP content negotiation: the weighted items of an Accept or Accept-Encoding header."""

from __future__ import annotations


def weighted(header: str | None) -> list[tuple[str, float]]:
    """``(value, q)`` for each item of the header, in order, values lower-cased; a bad or
    missing ``q`` parameter counts as 0 and 1 respectively."""
    out: list[tuple[str, float]] = []
    for part in (header or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((bits[0].lower(), q))
    return out
