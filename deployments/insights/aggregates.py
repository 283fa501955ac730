"""The aggregates the insights need on every database: a percentile, and seconds between two
times. PostgreSQL has both; SQLite (the embedded default) gets ``percentile_cont`` as a function
registered on its connections (:func:`sqlite_register`) and ``julianday`` arithmetic."""

from __future__ import annotations

import math

from django.db.models import Aggregate, FloatField, Func


class PercentileCont(Aggregate):
    """``PERCENTILE_CONT(fraction) WITHIN GROUP (ORDER BY expression)``: NULLs are ignored."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="percentile_cont(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


class Seconds(Func):
    """``end - start`` in seconds, as a float (NULL when either is NULL)."""

    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sqlite(self, compiler, connection, **extra_context):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        sql = f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)"
        return sql, (*end_params, *start_params)


class _SqlitePercentile:
    """The SQLite side of :class:`PercentileCont`: linear interpolation, as PostgreSQL does."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self):
        return percentile_cont(sorted(self.values), self.fraction)


def percentile_cont(ordered: list[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont`` over an ordered list (None when it is empty)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def sqlite_register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give SQLite connections ``percentile_cont``."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("percentile_cont", 2, _SqlitePercentile)
