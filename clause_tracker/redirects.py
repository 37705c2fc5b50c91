"""The one check for every `next` the app redirects to: a path of this site, nothing else.

Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so
`/\\t/evil.example` or `/\\evil.example` would lead to another site although the text starts
with a single slash. A target is taken only if it is a plain same-site path: it starts with
one `/`, contains no control character, space or backslash, and has neither scheme nor host
(before and after percent-decoding the start); anything else gives the fallback.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import url_for


def is_safe_path(target: object) -> bool:
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return False
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return False
    for text in (target, unquote(target)):
        if text.startswith("//") or text.startswith("/\\"):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(target: object, fallback_endpoint: str = "main.index") -> str:
    """`target` if it is a same-site path, else the URL of `fallback_endpoint`."""
    return target if is_safe_path(target) else url_for(fallback_endpoint)  # type: ignore[return-value]
