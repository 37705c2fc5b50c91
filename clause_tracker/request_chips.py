"""The active filters of a list as chips: a label, the value as the reader reads it, and
the URL of the same list without that filter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import url_for


@dataclass(frozen=True)
class Chip:
    key: str
    label: str
    value: str
    remove: str


def chips(endpoint: str, args: Mapping[str, str], labels: Mapping[str, Any],
          values: Mapping[str, Callable[[str], Any]] | None = None,
          keep: tuple[str, ...] = ("sort",), **url_values: Any) -> list[Chip]:
    """A chip for each argument in `args` that `labels` names (in the labels' order);
    `values` shows a code as its label. Removing one also returns to the first page."""
    values = values or {}
    found = []
    for key, label in labels.items():
        raw = args.get(key)
        if not raw:
            continue
        rest = {k: v for k, v in args.items() if k not in (key, "page") and v}
        shown = values.get(key, str)(raw)
        found.append(Chip(key, str(label), str(shown),
                          url_for(endpoint, **{**url_values, **rest})))
    return found


def clear_url(endpoint: str, args: Mapping[str, str], keep: tuple[str, ...] = ("sort",),
              **url_values: Any) -> str:
    return url_for(endpoint, **{**url_values,
                                **{k: v for k, v in args.items() if k in keep and v}})
