"""What the sandbox's child finds in a returned PDF or image (see analyse.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Analysis:
    method: str  # "pdf_text" | "ocr"
    pages: list[list[str]]  # lines per page in reading order
    page_count: int
    warnings: list[str] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
