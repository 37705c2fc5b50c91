"""The compliance settings of config.py, parsed once per use into plain values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app


def _pairs(entries: tuple[str, ...] | list[str] | str) -> list[tuple[str, str]]:
    if isinstance(entries, str):
        entries = [part for part in entries.split("|") if part.strip()]
    pairs = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep:
            raise RuntimeError(f"compliance setting {entry!r}: expected KEY=VALUE")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _list(entries: tuple[str, ...] | list[str] | str) -> list[str]:
    if isinstance(entries, str):
        entries = entries.split("|")
    return [e.strip() for e in entries if e.strip()]


@dataclass(frozen=True)
class Settings:
    interval_months: int
    intervals: list[tuple[str, str, int]]  # (unit code or "*", kind or "*", months)
    grace_days: int
    spread_first_checks: bool
    lookback_days: int
    renewal_lead_days: int
    resign_all: frozenset[str]  # clause variants whose new versions all agreements re-sign
    sample_share: float
    unit_heads: list[tuple[str, str]]  # (unit code, address)
    escalation_emails: list[str]
    penalty_per_breach: Decimal
    penalty_cap: Decimal
    exclusion_max_years: int
    retention_contract_years: int
    retention_grant_years: int


def settings() -> Settings:
    c = current_app.config
    intervals = []
    for key, months in _pairs(c["COMPLIANCE_INTERVALS"]):
        unit, _, kind = key.partition(":")
        intervals.append((unit or "*", kind or "*", int(months)))
    if any(months < 1 for *_, months in intervals) or int(c["COMPLIANCE_INTERVAL_MONTHS"]) < 1:
        raise RuntimeError("compliance intervals are at least one month")
    share = float(c["COMPLIANCE_SAMPLE_SHARE"])
    if not 0 <= share <= 1:
        raise RuntimeError("COMPLIANCE_SAMPLE_SHARE lies between 0 and 1")
    return Settings(
        interval_months=int(c["COMPLIANCE_INTERVAL_MONTHS"]),
        intervals=intervals,
        grace_days=int(c["COMPLIANCE_GRACE_DAYS"]),
        spread_first_checks=bool(c["COMPLIANCE_SPREAD_FIRST_CHECKS"]),
        lookback_days=int(c["COMPLIANCE_EVENT_LOOKBACK_DAYS"]),
        renewal_lead_days=int(c["COMPLIANCE_RENEWAL_LEAD_DAYS"]),
        resign_all=frozenset(variant for variant, policy in _pairs(c["COMPLIANCE_RESIGN_POLICY"])
                             if policy == "all"),
        sample_share=share,
        unit_heads=_pairs(c["COMPLIANCE_UNIT_HEADS"]),
        escalation_emails=_list(c["COMPLIANCE_ESCALATION_EMAILS"]),
        penalty_per_breach=Decimal(str(c["PENALTY_PERCENT_PER_BREACH"])),
        penalty_cap=Decimal(str(c["PENALTY_PERCENT_CAP"])),
        exclusion_max_years=int(c["EXCLUSION_MAX_YEARS"]),
        retention_contract_years=int(c["RETENTION_CONTRACT_YEARS"]),
        retention_grant_years=int(c["RETENTION_GRANT_YEARS"]),
    )
