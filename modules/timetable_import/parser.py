"""Rebuild a timetable from positioned words (any OCR engine, or a PDF's text layer).

Three layouts are read:

* a grid with the days as columns (a header line holding two or more day names), times either as row
  labels on the left or as a range inside each cell;
* a grid with the days as rows (day names down the left, time labels across the top); it is the first
  case with the axes swapped, so one implementation serves both;
* a list (one line per class: day, time range, course, room...), or day headings followed by lines
  with a time range.

A class whose cell spans several rows (a merged cell) takes the full range: its text block is centred
across the rows it covers, so it overlaps each of them. A range written in the cell always wins.

Pure functions, no Django, no OCR: tested on word lists.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from modules.timetable_import.ocr_port import Word

# --- vocabulary ------------------------------------------------------------------------------------

# 0 = Monday .. 6 = Sunday. Two-letter forms only count where several days line up (a header).
_DAYS: dict[int, tuple[str, ...]] = {
    0: ("monday", "mon", "montag", "lundi", "lun", "lunes", "mo"),
    1: ("tuesday", "tue", "tues", "dienstag", "mardi", "mar", "martes", "di"),
    2: ("wednesday", "wed", "weds", "mittwoch", "mercredi", "mer", "miercoles", "mie", "mi"),
    3: ("thursday", "thu", "thur", "thurs", "donnerstag", "jeudi", "jeu", "jueves", "jue", "do"),
    4: ("friday", "fri", "freitag", "vendredi", "ven", "viernes", "vie", "fr"),
    5: ("saturday", "sat", "samstag", "sonnabend", "samedi", "sam", "sabado", "sab", "sa"),
    6: ("sunday", "sun", "sonntag", "dimanche", "dim", "domingo", "dom", "so"),
}
DAY_WORDS: dict[str, int] = {w: d for d, words in _DAYS.items() for w in words}

CLASS_TYPES: dict[str, str] = {
    "lecture": "lecture",
    "lec": "lecture",
    "vorlesung": "lecture",
    "vl": "lecture",
    "cours": "lecture",
    "cm": "lecture",
    "clase": "lecture",
    "teoria": "lecture",
    "lab": "lab",
    "labs": "lab",
    "laboratory": "lab",
    "practical": "lab",
    "praktikum": "lab",
    "tp": "lab",
    "laboratorio": "lab",
    "practica": "lab",
    "tutorial": "tutorial",
    "tut": "tutorial",
    "ubung": "tutorial",
    "uebung": "tutorial",
    "td": "tutorial",
    "tutoria": "tutorial",
    "seminar": "seminar",
    "seminaire": "seminar",
    "seminario": "seminar",
    "sem": "seminar",
    "workshop": "other",
    "exam": "other",
    "klausur": "other",
}

_ROOM_PREFIX = (
    r"(?:Room|Rm\.?|Raum|Salle|Sala|Aula|Hall|H[öo]rsaal|HS|Amphi(?:th[ée][âa]tre)?|Bldg\.?|Building|Geb[äa]ude|Labor|Labo|Lab)"
)
ROOM_PREFIX_RE = re.compile(rf"\b{_ROOM_PREFIX}\s*[:#]?\s*[A-Z0-9][\w.\-/]*")  # Room 3.12, Hall A, Raum 204, Salle B12
ROOM_RE = re.compile(
    r"\b[A-Z]{1,2}\s?-\s?\d{1,4}[A-Za-z]?\b"  # B-204, HG-12
    r"|\b[A-Z]\d{3,4}[A-Za-z]?\b",  # B204
)
# Course codes: CS 301, MATH-101, CS301; OCR often lowers the case of "CS", so either case is read.
CODE_RE = re.compile(r"\b([A-Z]{2,5}|[a-z]{2,4})\s?[-‐]?\s?(\d{3,4}[A-Z]?)\b")
INSTRUCTOR_RE = re.compile(r"\b(?:Dr|Prof|Mr|Mrs|Ms|Herr|Frau|Mme|Mlle|Sr|Sra|Dra|Dott)\.?\s+[A-ZÀ-Ý][\w.\- ']*")

_TIME_RE = re.compile(
    r"(?<![\d.:,])"
    r"(?P<h>[01]?\d|2[0-4])"
    r"(?:(?P<sep>\s?[:.hH]\s?)(?P<m>[0-5]\d)|(?P<hh>[hH])(?![a-zA-Z]))?"
    r"(?:\s?(?P<ap>[aApP])\.?\s?[mM]\b\.?)?"
    r"(?![\d])"
)
_BARE_START = re.compile(r"\s?(?:-|–|—|to)\s?\d{1,2}(?:[:.]\d{2})?\s?[aApP]\.?\s?[mM]")  # the "2" of "2-3:30pm"
_RANGE_SEP = re.compile(r"^\s*(?:-|–|—|−|~|‐|to|bis|à|a|au|till|until|hasta|al)?\s*$", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, accents removed, surrounding punctuation stripped: 'Mié.' -> 'mie'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")
    return plain.lower().strip(" .,:;()[]|/\\-_'\"*")


def day_of(text: str, *, strong_only: bool = False) -> int | None:
    key = fold(text)
    day = DAY_WORDS.get(key)
    if day is None or (strong_only and len(key) <= 2):
        return None
    return day


# --- times -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeToken:
    minutes: int
    start: int  # span in the text
    end: int
    explicit_ap: str | None  # "a" / "p" when written
    raw_hour: int


def find_times(text: str) -> list[TimeToken]:
    """Clock times in ``text``: 09:00, 9.00, 14h, 14h30, 9am, 9:00 AM. A bare number is not a time."""
    found = []
    for m in _TIME_RE.finditer(text):
        if not (m.group("m") or m.group("hh") or m.group("ap") or _BARE_START.match(text, m.end())):
            continue
        hour, minute = int(m.group("h")), int(m.group("m") or 0)
        ap = (m.group("ap") or "").lower() or None
        if ap:
            if hour == 0 or hour > 12:
                continue
            if ap == "p" and hour < 12:
                hour += 12
            elif ap == "a" and hour == 12:
                hour = 0
        if hour == 24 and minute == 0:
            hour = 24
        elif hour > 23:
            continue
        found.append(TimeToken(hour * 60 + minute, m.start(), m.end(), ap, int(m.group("h"))))
    return found


@dataclass(frozen=True)
class TimeRange:
    start: int  # minutes after midnight
    end: int
    span: tuple[int, int]


def find_ranges(text: str) -> list[TimeRange]:
    """Time ranges: 09:00-10:30, 9.00–10.30, 9:00 AM - 10:30 AM, 9am-10:30am, 14h-15h30, 14:00 bis 15:30."""
    times = find_times(text)
    ranges: list[TimeRange] = []
    i = 0
    while i < len(times) - 1:
        a, b = times[i], times[i + 1]
        between = text[a.end : b.start]
        if _RANGE_SEP.match(between) and (
            between.strip() or ("h" in text[a.start : a.end].lower() or ":" in text[a.start : b.end])
        ):
            start, end = a.minutes, b.minutes
            if b.explicit_ap == "p" and a.explicit_ap is None and a.raw_hour < 12 and start + 720 < end + 1:
                start += 720  # "2-3:30pm": the start shares the end's pm
            if end <= start and end < 720 and a.explicit_ap is None or end <= start and b.explicit_ap is None and end < 720:
                end += 720  # "11-1": past noon
            if 0 <= start < end <= 24 * 60 and end - start <= 12 * 60:
                ranges.append(TimeRange(start, end, (a.start, b.end)))
                i += 2
                continue
        i += 1
    return ranges


def hhmm(minutes: int) -> str:
    minutes = min(minutes, 23 * 60 + 59)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- geometry ---------------------------------------------------------------------------------------


@dataclass
class Line:
    words: list[Word]

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def left(self) -> float:
        return min(w.left for w in self.words)

    @property
    def height(self) -> float:
        return statistics.median(w.height for w in self.words)

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def segments(self, gap: float) -> list[Line]:
        """Split where the horizontal gap between words is wider than ``gap`` (table columns)."""
        out: list[Line] = []
        for w in self.words:
            if out and w.left - out[-1].words[-1].right <= gap:
                out[-1].words.append(w)
            else:
                out.append(Line([w]))
        return out


def group_lines(words: Iterable[Word]) -> list[Line]:
    """Words into text lines by vertical overlap, each sorted left to right; lines top to bottom."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.page, w.cy, w.left)):
        best = None
        for line in reversed(lines[-12:]):
            if line.words[0].page != w.page:
                continue
            ref = statistics.median(x.cy for x in line.words)
            if abs(w.cy - ref) < 0.5 * max(w.height, line.height):
                best = line
                break
        if best is None:
            lines.append(Line([w]))
        else:
            best.words.append(w)
    for line in lines:
        line.words.sort(key=lambda w: w.left)
    lines.sort(key=lambda ln: (ln.words[0].page, ln.cy))
    return lines


def _char_height(words: Sequence[Word]) -> float:
    heights = [w.height for w in words if any(c.isalnum() for c in w.text)]
    return statistics.median(heights) if heights else 10.0


def _transpose(w: Word) -> Word:
    return Word(w.text, w.top, w.left, w.height, w.width, w.confidence, w.page)


# --- fields of one cell ------------------------------------------------------------------------------


@dataclass
class Fields:
    course_name: str = ""
    course_code: str = ""
    location: str = ""
    class_type: str = ""
    instructor: str = ""


_JUNK = re.compile(r"^[\W_]+|[\W_]+$")


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = _JUNK.sub("", text)
    text = re.sub(r"^\(|\)$", "", text).strip()
    return text


def extract_fields(parts: Sequence[str]) -> Fields:
    """Course code, room, type and instructor by pattern; what is left is the course name."""
    f = Fields()
    names: list[str] = []
    for raw in parts:
        text = raw
        for r in find_ranges(text):
            text = text[: r.span[0]] + " " + text[r.span[1] :]
        if not f.instructor and (m := INSTRUCTOR_RE.search(text)):
            f.instructor = _clean(m.group(0))
            text = text[: m.start()] + " " + text[m.end() :]
        if not f.location and (m := ROOM_PREFIX_RE.search(text)):
            f.location = _clean(m.group(0))
            text = text[: m.start()] + " " + text[m.end() :]
        if not f.course_code and (m := CODE_RE.search(text)):
            f.course_code = m.group(0).upper().replace("  ", " ")
            text = text[: m.start()] + " " + text[m.end() :]
        if not f.location and (m := ROOM_RE.search(text)):
            f.location = _clean(m.group(0))
            text = text[: m.start()] + " " + text[m.end() :]
        kept = []
        for token in text.split():
            kind = CLASS_TYPES.get(fold(token))
            if kind and not f.class_type:
                f.class_type = kind
                continue
            if kind:
                continue
            kept.append(token)
        leftover = _clean(" ".join(kept))
        if sum(c.isalpha() for c in leftover) >= 2:
            names.append(leftover)
    f.course_name = " ".join(names)[:255]
    return f


# --- result ------------------------------------------------------------------------------------------


@dataclass
class ParsedClass:
    day_of_week: int  # 0 = Monday
    start: int  # minutes
    end: int
    course_name: str
    course_code: str = ""
    location: str = ""
    class_type: str = ""
    instructor: str = ""
    confidence: float = 1.0
    raw_text: str = ""

    @property
    def start_time(self) -> str:
        return hhmm(self.start)

    @property
    def end_time(self) -> str:
        return hhmm(self.end)


class NoTimetableFound(Exception):
    """The words hold no timetable; the message is for the student."""


@dataclass
class ParseResult:
    classes: list[ParsedClass]
    layout: str
    notes: list[str] = field(default_factory=list)


def _make_class(day: int, start: int, end: int, block: Sequence[Word], parts: Sequence[str], factor: float) -> ParsedClass | None:
    f = extract_fields(parts)
    if not (f.course_name or f.course_code):
        return None
    # the mean, pulled down by the weakest word: one unreadable word is worth a second look
    ocr = (statistics.fmean(w.confidence for w in block) + min(w.confidence for w in block)) / 2 if block else 1.0
    if not f.course_name:
        factor *= 0.85
    elif len(f.course_name) < 3:
        factor *= 0.7
    return ParsedClass(
        day_of_week=day,
        start=start,
        end=end,
        course_name=f.course_name or f.course_code,
        course_code=f.course_code,
        location=f.location,
        class_type=f.class_type,
        instructor=f.instructor,
        confidence=round(max(0.0, min(1.0, ocr * factor)), 3),
        raw_text=" / ".join(parts)[:500],
    )


# --- grid --------------------------------------------------------------------------------------------


def _reading_lines(words: Sequence[Word]) -> list[str]:
    return [ln.text for ln in group_lines(words)]


def _find_day_header(lines: Sequence[Line]) -> tuple[Line, list[tuple[Word, int]]] | None:
    """The line naming the most distinct days, left to right (at least two)."""
    best = None
    for line in lines:
        found: list[tuple[Word, int]] = []
        seen: set[int] = set()
        for w in line.words:
            d = day_of(w.text)
            if d is not None and d not in seen:
                found.append((w, d))
                seen.add(d)
        strong = sum(1 for w, _ in found if day_of(w.text, strong_only=True) is not None)
        if len(found) >= 2 and (strong >= 2 or len(found) >= 3) and (best is None or len(found) > len(best[1])):
            best = (line, found)
    return best


def _parse_grid(words: Sequence[Word], header: list[tuple[Word, int]], *, transposed: bool) -> list[ParsedClass]:
    """Days along the x axis of ``words`` (already transposed for days-as-rows)."""
    orig = {id(w): w for w in words}
    char_h = _char_height([_transpose(w) for w in words] if transposed else words)
    header = sorted(header, key=lambda p: p[0].cx)
    centres = [w.cx for w, _ in header]
    steps = [b - a for a, b in zip(centres, centres[1:], strict=False)]
    step = statistics.median(steps)
    bounds = (
        [centres[0] - step / 2] + [(a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)] + [centres[-1] + step / 2]
    )
    header_bottom = max(w.bottom for w, _ in header)
    below = [w for w in words if w.top > header_bottom - 0.2 * char_h and all(w is not h for h, _ in header)]

    # Row labels: times left of the first column.
    label_words = [w for w in below if w.cx < bounds[0] and _label_like(w.text)]
    rows: list[tuple[float, float, int, int | None]] = []  # (top, bottom, start, end)
    for line in _axis_lines(label_words, 0.6 * char_h if transposed else -0.3 * char_h):
        text = " ".join(ln.text for ln in group_lines(orig[id(w)] for w in line))
        rng = find_ranges(text)
        if rng:
            rows.append((min(w.top for w in line), max(w.bottom for w in line), rng[0].start, rng[0].end))
            continue
        times = find_times(text)
        if times:
            rows.append((min(w.top for w in line), max(w.bottom for w in line), times[0].minutes, None))
    rows.sort()
    bands: list[tuple[float, float, int, int]] = []
    if rows:
        centres_y = [(t + b) / 2 for t, b, _, _ in rows]
        gaps = [b - a for a, b in zip(centres_y, centres_y[1:], strict=False)] or [4 * char_h]
        row_step = statistics.median(gaps)
        starts = [s for _, _, s, _ in rows]
        time_steps = [b - a for a, b in zip(starts, starts[1:], strict=False) if b > a] or [60]
        time_step = statistics.median(time_steps)
        for i, (_t, _b, start, end) in enumerate(rows):
            lo = (centres_y[i - 1] + centres_y[i]) / 2 if i else centres_y[i] - row_step / 2
            hi = (centres_y[i] + centres_y[i + 1]) / 2 if i + 1 < len(rows) else centres_y[i] + row_step / 2
            if end is None:
                end = starts[i + 1] if i + 1 < len(rows) and starts[i + 1] > start else start + int(time_step)
            bands.append((lo, hi, start, end))

    classes: list[ParsedClass] = []
    for col, (_hw, day) in enumerate(header):
        lo, hi = bounds[col], bounds[col + 1]
        col_words = [w for w in below if lo <= w.cx < hi and not _is_rule(w)]
        for block in _blocks(col_words, char_h, transposed):
            block_orig = [orig[id(w)] for w in block]
            parts = _reading_lines([_transpose(w) for w in block_orig] if transposed else block_orig)
            ranges = [r for p in parts for r in find_ranges(p)]
            if ranges:
                start, end, factor = ranges[0].start, ranges[0].end, 1.0
            elif bands:
                top, bottom = min(w.top for w in block), max(w.bottom for w in block)
                extent = max(bottom - top, 1.0)
                hit = [b for b in bands if min(bottom, b[1]) - max(top, b[0]) >= 0.3 * min(extent, b[1] - b[0])]
                if not hit:
                    continue
                start, end, factor = hit[0][2], hit[-1][3], 0.95
            else:
                continue
            made = _make_class(day, start, end, block, parts, factor)
            if made:
                classes.append(made)
    return classes


def _is_rule(w: Word) -> bool:
    return not any(c.isalnum() for c in w.text)


def _axis_lines(words: Sequence[Word], slack: float) -> list[list[Word]]:
    """Words whose extents on the y axis overlap (or come within ``slack``), as groups."""
    out: list[list[Word]] = []
    for w in sorted(words, key=lambda w: w.top):
        if out and w.top < max(x.bottom for x in out[-1]) + slack:
            out[-1].append(w)
        else:
            out.append([w])
    return out


_LABEL_WORDS = {"am", "pm", "a.m", "p.m", "a.m.", "p.m.", "-", "–", "—", "bis", "to", "a", "à", "h", "uhr"}


def _label_like(text: str) -> bool:
    return any(c.isdigit() for c in text) or text.strip().lower() in _LABEL_WORDS


def _blocks(words: Sequence[Word], char_h: float, transposed: bool) -> list[list[Word]]:
    """Cluster a column's words into cells: a new cell after a gap of a line height or more, or where a
    second time range begins."""
    clusters: list[list[Word]] = []
    bottom = None
    for w in sorted(words, key=lambda w: w.top):
        if clusters and bottom is not None and w.top - bottom < 0.9 * char_h:
            clusters[-1].append(w)
            bottom = max(bottom, w.bottom)
        else:
            clusters.append([w])
            bottom = w.bottom
    out: list[list[Word]] = []
    for cluster in clusters:
        out.extend(_split_on_ranges(cluster, transposed))
    return out


def _split_on_ranges(cluster: list[Word], transposed: bool) -> list[list[Word]]:
    if transposed:
        return [cluster]
    lines = _axis_lines(cluster, -0.3 * statistics.median(w.height for w in cluster))
    if sum(1 for ln in lines if find_ranges(" ".join(w.text for w in sorted(ln, key=lambda w: w.left)))) < 2:
        return [cluster]
    out: list[list[Word]] = []
    has_range = False
    for ln in lines:
        is_range = bool(find_ranges(" ".join(w.text for w in sorted(ln, key=lambda w: w.left))))
        if out and not (is_range and has_range):
            out[-1].extend(ln)
            has_range = has_range or is_range
        else:
            out.append(list(ln))
            has_range = is_range
    return out


# --- days as rows ------------------------------------------------------------------------------------


def _find_day_column(lines: Sequence[Line], char_h: float) -> list[tuple[Word, int]] | None:
    firsts: list[tuple[Word, int]] = []
    seen: set[int] = set()
    for line in lines:
        w = line.words[0]
        d = day_of(w.text)
        if d is not None and d not in seen:
            firsts.append((w, d))
            seen.add(d)
    if len(firsts) < 2:
        return None
    lefts = [w.left for w, _ in firsts]
    med = statistics.median(lefts)
    aligned = [(w, d) for w, d in firsts if abs(w.left - med) < 3 * char_h]
    return aligned if len(aligned) >= 2 else None


def _time_header_above(lines: Sequence[Line], first_day_top: float) -> bool:
    for line in lines:
        if line.bottom <= first_day_top and len(find_times(line.text)) >= 2 and len(find_ranges(line.text)) != 1:
            return True
    return False


# --- list --------------------------------------------------------------------------------------------


def _parse_list(lines: Sequence[Line], char_h: float) -> list[ParsedClass]:
    classes: list[ParsedClass] = []
    day: int | None = None
    for line in lines:
        words = [w for w in line.words if not _is_rule(w) or w.text.strip() in "-–—"]
        if not words:
            continue
        text = " ".join(w.text for w in words)
        ranges = find_ranges(text)
        found = day_of(words[0].text, strong_only=not ranges and len(words) > 1)
        if found is None and ranges:
            # "09:00-10:30 Monday ...": a day right after the range
            after = text[ranges[0].span[1] :].split()
            found = day_of(after[0]) if after else None
        if found is not None:
            day = found
        if not ranges or day is None:
            continue
        segments = Line(words).segments(1.2 * char_h)
        parts = [_strip_day_and_range(" ".join(w.text for w in seg.words)) for seg in segments]
        made = _make_class(day, ranges[0].start, ranges[0].end, words, [p for p in parts if p.strip()], 1.0)
        if made:
            classes.append(made)
    return classes


def _strip_day_and_range(part: str) -> str:
    for r in reversed(find_ranges(part)):
        part = part[: r.span[0]] + " " + part[r.span[1] :]
    tokens = part.split()
    while tokens and day_of(tokens[0]) is not None:
        tokens = tokens[1:]
    return " ".join(tokens)


# --- entry point -------------------------------------------------------------------------------------


MIN_WORD_CONFIDENCE = 0.2  # below this an OCR "word" is nearly always a texture or a rule


def _bar_is_letter(bar: Word, words: Sequence[Word]) -> bool:
    """A confident "|" right after a word on its line is the letter I ("Analysis I"), not a rule."""
    if bar.confidence < 0.8:
        return False
    for w in words:
        if w is bar or w.page != bar.page or not any(c.isalpha() for c in w.text):
            continue
        if 0 <= bar.left - w.right < 0.6 * w.height and abs(w.cy - bar.cy) < 0.3 * w.height:
            return True
    return False


def _clean_words(words: Iterable[Word]) -> list[Word]:
    words = list(words)
    words = [replace(w, text="I") if w.text.strip() == "|" and _bar_is_letter(w, words) else w for w in words]
    out = []
    for w in words:
        text = w.text.strip()
        if not text or all(c in "|_[]{}!¦‖=«»" for c in text) or w.confidence < MIN_WORD_CONFIDENCE:
            continue
        out.append(replace(w, text=text) if text != w.text else w)
    return out


def parse_page(words: Sequence[Word]) -> ParseResult:
    words = _clean_words(words)
    if not words:
        return ParseResult([], "empty")
    lines = group_lines(words)
    char_h = _char_height(words)
    header = _find_day_header(lines)
    if header is not None:
        classes = _parse_grid(words, header[1], transposed=False)
        if classes:
            return ParseResult(classes, "days_as_columns")
    column = _find_day_column(lines, char_h)
    if column is not None and _time_header_above(lines, min(w.top for w, _ in column)):
        t_words = [_transpose(w) for w in words]
        by_orig = {id(w): t for w, t in zip(words, t_words, strict=True)}
        t_header = [(by_orig[id(w)], d) for w, d in column]
        classes = _parse_grid(t_words, t_header, transposed=True)
        if classes:
            return ParseResult(classes, "days_as_rows")
    classes = _parse_list(lines, char_h)
    return ParseResult(classes, "list" if classes else "none")


def parse(words: Sequence[Word]) -> ParseResult:
    """All pages; raises NoTimetableFound when nothing like a timetable is there."""
    pages = sorted({w.page for w in words})
    classes: list[ParsedClass] = []
    layouts: list[str] = []
    for page in pages:
        result = parse_page([w for w in words if w.page == page])
        classes.extend(result.classes)
        layouts.append(result.layout)
    if not classes:
        has_day = any(day_of(w.text, strong_only=True) is not None for w in words)
        has_time = any(find_times(w.text) for w in words)
        if has_day and has_time:
            raise NoTimetableFound("days and times were found, but no classes could be read from them")
        raise NoTimetableFound("no days or times found")
    unique: dict[tuple[int, int, int, str], ParsedClass] = {}
    for c in classes:
        unique.setdefault((c.day_of_week, c.start, c.end, c.course_name.lower()), c)
    ordered = sorted(unique.values(), key=lambda c: (c.day_of_week, c.start, c.course_name))
    return ParseResult(ordered, "+".join(dict.fromkeys(layouts)))
