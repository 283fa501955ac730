"""Delivery insights: the four DORA figures (:mod:`.figures`), what each deployment keeps for them
when it ends (:mod:`.record`), and the aggregates they need on every database
(:mod:`.aggregates`)."""

from .aggregates import percentile_cont, sqlite_register
from .figures import (
    DEFAULT_DAYS,
    PERIODS,
    Bucket,
    Insights,
    PeriodFigures,
    environment_default,
    insights,
    insights_scope,
)
from .record import insights_rebuild, insights_record

__all__ = [
    "DEFAULT_DAYS",
    "PERIODS",
    "Bucket",
    "Insights",
    "PeriodFigures",
    "environment_default",
    "insights",
    "insights_rebuild",
    "insights_record",
    "insights_scope",
    "percentile_cont",
    "sqlite_register",
]
