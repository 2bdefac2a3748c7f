"""The real Tesseract run over the drawn corpus: at least 90 % of the classes recovered (day, start,
end and course all right). Prints the figure per file and in total (pytest -s shows it)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from modules.timetable_import.parser import NoTimetableFound, fold
from modules.timetable_import.pipeline import read_timetable
from tests.modules.timetable_import import corpus
from tests.modules.timetable_import.conftest import needs_tesseract

pytestmark = [needs_tesseract, pytest.mark.slow]


def _run(sample: corpus.Sample) -> tuple[corpus.Sample, set, str | None, float, str]:
    kind = "pdf" if sample.filename.endswith(".pdf") else "image"
    started = time.perf_counter()
    try:
        rec, result = read_timetable(sample.data, kind)
    except NoTimetableFound as exc:
        return sample, set(), str(exc), time.perf_counter() - started, ""
    got = {(c.day_of_week, c.start_time, c.end_time, fold(c.course_name)) for c in result.classes}
    return sample, got, None, time.perf_counter() - started, f"{rec.engine}/{result.layout}"


def test_tesseract_recovers_at_least_90_percent_of_the_corpus():
    samples = corpus.corpus()
    assert len(samples) >= 10
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outcomes = list(pool.map(_run, samples))
    total = found = 0
    lines = ["", f"{'file':28} {'found':>7} {'rate':>6} {'secs':>6}  engine/layout"]
    for sample, got, failure, secs, how in outcomes:
        if sample.failure:
            assert failure == sample.failure, f"{sample.name} should fail with {sample.failure!r}, got {failure!r} / {got}"
            lines.append(f"{sample.filename:28} {'failed':>7} {'ok':>6} {secs:6.1f}  ({failure})")
            continue
        expected = {(d, s, e, fold(n)) for d, s, e, n in sample.expected}
        hit = len(expected & got)
        total += len(expected)
        found += hit
        lines.append(f"{sample.filename:28} {hit:>3}/{len(expected):<3} {hit / len(expected):6.0%} {secs:6.1f}  {how}")
        missing = sorted(expected - got)
        if missing:
            lines.append(f"{'':28} missing {missing}")
        assert hit / len(expected) >= 0.6, f"{sample.name}: only {hit}/{len(expected)}; got {sorted(got)}"
    lines.append(f"{'TOTAL':28} {found:>3}/{total:<3} {found / total:6.1%}")
    print("\n".join(lines))
    assert found / total >= 0.9
