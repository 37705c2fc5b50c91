"""Page arithmetic shared by every list (the template side is templates/_pagination.html)."""

from __future__ import annotations


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


def clamp(number: int, total: int, size: int) -> int:
    """A requested page number kept within the pages that exist."""
    return min(max(1, number), page_count(total, size))
