"""What the commands print: tables that fit 80 columns, the API's objects as JSON, log lines.

With ``--output json`` stdout holds exactly one JSON document (for ``jq``); anything said along
the way — the streamed log, "exists", progress — goes to stderr instead.
"""

import json
import sys

WIDTH = 80
GAP = "  "
ELLIPSIS = "…"


class Printer:
    """Prints for one output mode: ``table`` (people) or ``json`` (programs)."""

    def __init__(self, mode: str, out=None, err=None):
        self.mode = mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    @property
    def json(self) -> bool:
        return self.mode == "json"

    def say(self, text: str) -> None:
        """A line for the person watching: stdout in table mode, stderr in json mode."""
        stream = self.err if self.json else self.out
        print(text, file=stream, flush=True)

    def document(self, data) -> None:
        print(json.dumps(data, indent=2), file=self.out, flush=True)

    def table(self, headers: list[str], rows: list[list]) -> None:
        for line in table_lines(headers, rows):
            print(line, file=self.out)
        self.out.flush()

    def fields(self, pairs: list[tuple[str, object]]) -> None:
        """``name: value`` lines (one object), values cut to fit the width."""
        width = max(len(name) for name, _ in pairs) + 1
        for name, value in pairs:
            text = cell(value)
            room = WIDTH - width - 1
            print(f"{name + ':':<{width}} {clip(text, room)}", file=self.out)
        self.out.flush()


def cell(value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split())  # one line per row


def clip(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


def table_lines(headers: list[str], rows: list[list], width: int = WIDTH) -> list[str]:
    """Columns as wide as their widest cell, the widest ones cut (with …) until the table fits."""
    texts = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in texts]) for i, h in enumerate(headers)]
    room = width - len(GAP) * (len(headers) - 1)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        floor = max(len(headers[widest]), 4)
        if widths[widest] <= floor:
            break  # nothing left to cut without losing the header
        widths[widest] -= 1
    lines = [GAP.join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in texts:
        cells = [clip(c, w).ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append(GAP.join(cells).rstrip())
    return lines


LEVEL_MARKS = {
    "verbose": "VERBOSE",
    "info": "INFO",
    "highlight": "HIGHLIGHT",
    "warning": "WARNING",
    "error": "ERROR",
}


def log_line(line: dict) -> str:
    """``HH:MM:SS LEVEL     [step] text`` — the server has already masked sensitive values."""
    time = str(line.get("time") or "")
    clock = time[11:19] if len(time) >= 19 else time
    level = LEVEL_MARKS.get(line.get("level"), str(line.get("level", "")).upper())
    step = f" [{line['step']}]" if line.get("step") else ""
    return f"{clock} {level:<9}{step} {line.get('text', '')}"


def duration(seconds) -> str:
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"


def when(stamp) -> str:
    """An API timestamp shortened to ``YYYY-MM-DD HH:MM`` for tables."""
    if not stamp:
        return "-"
    return str(stamp)[:16].replace("T", " ")
