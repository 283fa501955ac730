"""The task log: a buffered, masked writer for the engine, and the reads for the page and API.

Lines are appended in memory and written with one ``bulk_create`` per batch (every
``FLUSH_SECONDS`` from the engine's ticker thread, or as soon as ``FLUSH_LINES`` are waiting), so
a chatty step costs a few INSERTs, not one per line, and a reader sees a line within a second.
Every sensitive value of the release — and its JSON-escaped, base64, URI-escaped and
case-changed forms — is masked before a line is stored; the masking is the preview's
(``releases.process.mask``), so the two can never disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import cached_property

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from releases.process import mask

from .models import Deployment, LogLine

LEVELS = [level.value for level in LogLine.Level]
FLUSH_SECONDS = 0.25
FLUSH_LINES = 100
PAGE_LINES = 1000
MAX_PAGE_LINES = 5000


class LogWriter:
    """Append-only writer of one deployment's log; thread-safe (the ticker flushes it)."""

    def __init__(self, deployment_id: int, secrets: list[str] | Callable[[], list[str]]):
        """``secrets``: the values to mask, or a function giving them, asked only once a line
        is stored (a check that logs nothing costs no variable resolution)."""
        self.deployment_id = deployment_id
        self._secrets = secrets
        self.step = ""
        self._buffer: list[LogLine] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._seq: int | None = None  # read at the first line: a writer that writes none reads none

    @cached_property
    def secrets(self) -> list[str]:
        found = self._secrets() if callable(self._secrets) else self._secrets
        return [s for s in found if s]

    def mask(self, text: str) -> str:
        return mask(text, self.secrets) if text and self.secrets else text

    def write(self, level: str, text: str, *, step: str | None = None) -> None:
        # Hot path: no query here but the first line's, only an append (flushes are batched).
        with self._lock:
            if self._seq is None:
                last = LogLine.objects.filter(deployment_id=self.deployment_id).aggregate(
                    m=Max("seq")
                )["m"]
                self._seq = last or 0
            self._seq += 1
            self._buffer.append(
                LogLine(
                    deployment_id=self.deployment_id,
                    seq=self._seq,
                    time=timezone.now(),
                    level=level if level in LEVELS else LogLine.Level.INFO,
                    step=(self.step if step is None else step)[:200],
                    text=str(text),
                )
            )
            full = len(self._buffer) >= FLUSH_LINES
        if full:
            self.flush()

    def verbose(self, text: str) -> None:
        self.write(LogLine.Level.VERBOSE, text)

    def info(self, text: str) -> None:
        self.write(LogLine.Level.INFO, text)

    def highlight(self, text: str) -> None:
        self.write(LogLine.Level.HIGHLIGHT, text)

    def warning(self, text: str) -> None:
        self.write(LogLine.Level.WARNING, text)

    def error(self, text: str) -> None:
        self.write(LogLine.Level.ERROR, text)

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                lines, self._buffer = self._buffer, []
            if not lines:
                return
            texts = mask([line.text for line in lines], self.secrets) if self.secrets else None
            for index, line in enumerate(lines):
                if texts is not None:
                    line.text = texts[index]
            try:
                with transaction.atomic():
                    LogLine.objects.bulk_create(lines)
            except IntegrityError:
                # Someone else (the reaper) appended a line meanwhile: renumber after it.
                with self._lock:
                    last = LogLine.objects.filter(deployment_id=self.deployment_id).aggregate(
                        m=Max("seq")
                    )["m"]
                    for offset, line in enumerate(lines, start=1):
                        line.seq = last + offset
                    self._seq = max(self._seq or 0, last + len(lines))
                    for line in self._buffer:
                        self._seq += 1
                        line.seq = self._seq
                LogLine.objects.bulk_create(lines)


def log_append(deployment: Deployment, level: str, text: str, *, step: str = "") -> None:
    """One line written at once, outside a run (the reaper, a cancel before start)."""
    last = LogLine.objects.filter(deployment=deployment).aggregate(m=Max("seq"))["m"] or 0
    LogLine.objects.create(
        deployment=deployment, seq=last + 1, time=timezone.now(), level=level, step=step, text=text
    )


# Reads --------------------------------------------------------------------------------------


def log_page(deployment_id: int, *, after: int = 0, limit: int = PAGE_LINES) -> list[LogLine]:
    """The lines after ``after``, oldest first (an index range scan on (deployment, seq))."""
    limit = max(1, min(limit, MAX_PAGE_LINES))
    return list(
        LogLine.objects.filter(deployment_id=deployment_id, seq__gt=after)
        .order_by("seq")
        .only("seq", "time", "level", "step", "text")[:limit]
    )


def log_tail(deployment_id: int, *, limit: int = 500, before: int | None = None) -> list[LogLine]:
    """The last ``limit`` lines (before ``before``), oldest first: what a page opens with."""
    lines = LogLine.objects.filter(deployment_id=deployment_id)
    if before is not None:
        lines = lines.filter(seq__lt=before)
    newest = list(
        lines.order_by("-seq").only("seq", "time", "level", "step", "text")[: max(1, limit)]
    )
    newest.reverse()
    return newest


def log_since(
    deployment: Deployment, after: int, *, limit: int = PAGE_LINES
) -> tuple[bool, list[LogLine]]:
    """``(finished, lines)``: whether nothing will follow these lines, and the lines.

    ``deployment`` is the row the caller has already read and renders its answer from: its state
    is not read again here, so a response never pairs a card that says "executing" with
    "finished" (htmx would stop polling on a stale card). That read comes *before* the lines:
    the engine stores its last lines before it marks the deployment finished, so "finished" read
    first means every line is already there.
    """
    lines = log_page(deployment.pk, after=after, limit=limit)
    finished = deployment.state in Deployment.FINISHED and len(lines) < min(limit, MAX_PAGE_LINES)
    return finished, lines


def log_raw(deployment_id: int, chunk: int = 2000) -> Iterator[str]:
    """The whole log as text lines, read in chunks so a huge log streams in constant memory."""
    after = 0
    while True:
        lines = log_page(deployment_id, after=after, limit=chunk)
        if not lines:
            return
        for line in lines:
            step = f" [{line.step}]" if line.step else ""
            yield f"{line.time.isoformat()} {line.level.upper():9}{step} {line.text}\n"
        after = lines[-1].seq
