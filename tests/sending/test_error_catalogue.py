"""docs/errors.md lists exactly the codes of switchboard/domain/errors.py, with their statuses
and titles (the "when" column is prose)."""

from __future__ import annotations

import re
from pathlib import Path

from switchboard.domain import errors

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| `(\d{5})` \| (.+?) \|$")


def section(title: str) -> dict[str, list[str]]:
    """Rows of the table under `## title`: code → the other cells."""
    lines = DOC.read_text().splitlines()
    start = lines.index(f"## {title}")
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        match = ROW.match(line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} listed twice under {title}"
            rows[match.group(1)] = [c.strip() for c in match.group(2).split(" | ")]
    return rows


def test_request_errors_match_the_catalogue() -> None:
    documented = {
        code: (int(cells[0]), cells[1]) for code, cells in section("Request errors").items()
    }
    catalogue = {kind.code: (kind.status, kind.title) for kind in errors.ALL_KINDS}
    assert documented == catalogue
    assert all(cells[2] for cells in section("Request errors").values()), "every code says when"


def test_delivery_errors_match_the_catalogue() -> None:
    documented = {code: cells[0] for code, cells in section("Delivery errors").items()}
    assert documented == errors.DELIVERY_ERRORS


def test_bulk_update_codes_match() -> None:
    from switchboard.domain.bulk_updates import FAILURE_TITLES

    documented = {
        code: cells[0] for code, cells in section("Per-number errors of bulk updates").items()
    }
    assert documented == FAILURE_TITLES


def test_every_code_is_unique_in_the_catalogue() -> None:
    codes = [kind.code for kind in errors.ALL_KINDS]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
