"""What the benchmarks share: timing a call, and laying out paragraphs on an A4 page.

Nothing here imports reportlab at module level: the returned-file benches' sandbox
forkserver preloads __main__, and reportlab there made every child slower to start.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], rounds: int, pause: float = 0.0) -> float:
    """The median of `rounds` calls in milliseconds, after one warm-up call (which also starts
    any forkserver the call needs); `pause` seconds between calls, not timed."""
    fn()
    times = []
    for _ in range(rounds):
        time.sleep(pause)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def wrap(paragraphs: list[str], size: float, width: float) -> list[str]:
    """The paragraphs as Helvetica lines of at most `width` points, a blank line after each."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in paragraphs:
        line = ""
        for word in paragraph.split():
            if stringWidth(f"{line} {word}", "Helvetica", size) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines += [line, ""]
    return lines
