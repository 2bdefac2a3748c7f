"""The parser alone, on word lists as an OCR engine returns them (no OCR, fast)."""

from __future__ import annotations

import pytest

from modules.timetable_import.parser import NoTimetableFound, day_of, extract_fields, find_ranges, hhmm, parse
from tests.modules.timetable_import.wordkit import CHAR_H, cell, place


def _classes(words):
    return [(c.day_of_week, c.start_time, c.end_time, c.course_name) for c in parse(words).classes]


# --- vocabulary --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, day",
    [
        ("Monday", 0), ("Mon", 0), ("MON.", 0), ("Montag", 0), ("Lundi", 0), ("lunes", 0),
        ("Di.", 1), ("Tue", 1), ("mardi", 1), ("Martes", 1),
        ("Mer", 2), ("Mi.", 2), ("Mittwoch", 2), ("Miércoles", 2), ("Mié.", 2),
        ("Jue", 3), ("Do.", 3), ("Thurs", 3), ("jeudi", 3),
        ("Fr.", 4), ("Vendredi", 4), ("Vie", 4),
        ("Sáb", 5), ("Samstag", 5), ("Sonnabend", 5),
        ("Sun", 6), ("Dimanche", 6), ("Domingo", 6), ("So.", 6),
    ],
)  # fmt: skip
def test_day_names_in_four_languages(text, day):
    assert day_of(text) == day


def test_two_letter_forms_are_weak_and_words_are_not_days():
    assert day_of("So", strong_only=True) is None
    assert day_of("Marketing") is None and day_of("Sunday school") is None


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("09:00-10:30", "09:00", "10:30"),
        ("9.00–10.30", "09:00", "10:30"),
        ("9:00 AM - 10:30 AM", "09:00", "10:30"),
        ("1:00 PM - 2:30 PM", "13:00", "14:30"),
        ("11:00 AM - 12:15 PM", "11:00", "12:15"),
        ("9am-10:30am", "09:00", "10:30"),
        ("2-3:30pm", "14:00", "15:30"),
        ("14h-15h30", "14:00", "15:30"),
        ("8h-10h", "08:00", "10:00"),
        ("14:00 bis 15:30", "14:00", "15:30"),
        ("10h à 12h", "10:00", "12:00"),
        ("16:00 to 17:45", "16:00", "17:45"),
        ("11:00-1:00", "11:00", "13:00"),
    ],
)
def test_time_ranges(text, start, end):
    ranges = find_ranges(text)
    assert [(hhmm(r.start), hhmm(r.end)) for r in ranges] == [(start, end)]


@pytest.mark.parametrize("text", ["CS 301", "Room 3.12", "Call 555-1234", "Chapter 9", "10 - 12 students"])
def test_numbers_that_are_not_time_ranges(text):
    assert find_ranges(text) == []


def test_fields_of_a_cell():
    f = extract_fields(["CS 301", "Algorithms", "Room B-204", "Lecture", "Dr. Ada Lovelace"])
    assert (f.course_code, f.course_name, f.location, f.class_type, f.instructor) == (
        "CS 301", "Algorithms", "Room B-204", "lecture", "Dr. Ada Lovelace",
    )  # fmt: skip
    f = extract_fields(["MATH-101 Linear Algebra (Tutorial) B-204"])
    assert (f.course_code, f.course_name, f.location, f.class_type) == ("MATH-101", "Linear Algebra", "B-204", "tutorial")
    f = extract_fields(["Physik", "Übung", "Hall A", "Prof. Müller"])
    assert (f.course_name, f.class_type, f.location, f.instructor) == ("Physik", "tutorial", "Hall A", "Prof. Müller")
    f = extract_fields(["cs 305", "Databases", "Room 3.12"])  # OCR lowers the case of codes
    assert (f.course_code, f.location) == ("CS 305", "Room 3.12")
    assert extract_fields(["Biologie", "TP", "Salle C07"]).class_type == "lab"


# --- layouts -----------------------------------------------------------------------------------------

COLS = [300, 600, 900, 1200, 1500]


def _header(labels, y=100):
    out = []
    for x, label in zip(COLS, labels, strict=False):
        out += place(label, x - len(label) * 5.5, y)
    return out


def _row_labels(labels, first=200, pitch=120):
    out = []
    for i, label in enumerate(labels):
        out += place(label, 60, first + i * pitch + pitch / 2 - CHAR_H / 2)
    return out


def _in_row(row, lines, first=200, pitch=120):
    return first + row * pitch + pitch / 2 - len(lines) * CHAR_H * 1.3 / 2


def test_days_as_columns_with_row_labels_and_abbreviations():
    words = _header(["Mon", "Di.", "Mer", "Jue", "Fri"]) + _row_labels([f"{h:02d}:00" for h in range(8, 14)])
    for day, row, lines in [(0, 1, ["CS 301", "Algorithms", "B-204"]), (1, 0, ["Physics", "Hall A"]), (2, 3, ["Economics"]),
                            (3, 5, ["History", "Room 3.12"]), (4, 2, ["MATH-101", "Linear Algebra"])]:  # fmt: skip
        words += cell(lines, COLS[day], _in_row(row, lines))
    assert sorted(_classes(words)) == [
        (0, "09:00", "10:00", "Algorithms"),
        (1, "08:00", "09:00", "Physics"),
        (2, "11:00", "12:00", "Economics"),
        (3, "13:00", "14:00", "History"),
        (4, "10:00", "11:00", "Linear Algebra"),
    ]
    assert parse(words).layout == "days_as_columns"


def test_a_merged_cell_takes_its_full_range():
    words = _header(["Monday", "Tuesday", "Wednesday"]) + _row_labels(["09:00", "10:00", "11:00", "12:00"])
    # a two-hour class: its text is centred on the line between 10:00 and 11:00
    lines = ["Operating Systems", "Hall B"]
    words += cell(lines, COLS[1], 200 + 2 * 120 - len(lines) * CHAR_H * 1.3 / 2)
    words += cell(["Ethics"], COLS[0], _in_row(0, ["Ethics"]))
    assert sorted(_classes(words)) == [(0, "09:00", "10:00", "Ethics"), (1, "10:00", "12:00", "Operating Systems")]


def test_a_range_in_the_cell_wins_over_the_row_label():
    words = _header(["Mon", "Tue", "Wed"]) + _row_labels(["08:00", "09:00", "10:00"])
    words += cell(["08:15-09:45", "Anatomy"], COLS[2], _in_row(0, ["a", "b"]))
    assert _classes(words) == [(2, "08:15", "09:45", "Anatomy")]


def test_cells_without_row_labels_use_their_own_ranges_and_two_in_a_column_stay_apart():
    words = _header(["Lundi", "Mardi"])
    words += cell(["8h-10h", "Algèbre", "CM", "Salle B12"], COLS[0], 200)
    words += cell(["10h15-11h45", "Histoire", "TD"], COLS[0], 200 + 5 * CHAR_H * 1.3)  # right below
    words += cell(["14h-15h30", "Économie"], COLS[1], 200)
    assert sorted(_classes(words)) == [
        (0, "08:00", "10:00", "Algèbre"),
        (0, "10:15", "11:45", "Histoire"),
        (1, "14:00", "15:30", "Économie"),
    ]
    algebre = next(c for c in parse(words).classes if c.course_name == "Algèbre")
    assert (algebre.class_type, algebre.location) == ("lecture", "Salle B12")


def test_twelve_hour_row_labels():
    words = _header(["Mon", "Tue"]) + _row_labels(["11 AM", "12 PM", "1 PM", "2 PM"])
    words += cell(["Accounting"], COLS[0], _in_row(2, ["x"]))
    words += cell(["Finance"], COLS[1], _in_row(1, ["x"]))
    assert sorted(_classes(words)) == [(0, "13:00", "14:00", "Accounting"), (1, "12:00", "13:00", "Finance")]


def test_days_as_rows():
    words = []
    for i, label in enumerate(["09:00", "10:00", "11:00", "12:00"]):
        words += place(label, 300 + i * 250 + 90, 100)
    for d, name in enumerate(["Monday", "Tuesday", "Wednesday"]):
        words += place(name, 60, 200 + d * 150 + 60)
    words += cell(["Biology", "Room 1.10"], 300 + 0 * 250 + 125, 200 + 0 * 150 + 45)
    words += cell(["Chemistry"], 300 + 2 * 250 + 125, 200 + 1 * 150 + 60)
    words += cell(["Statistics", "Hall C"], 300 + 3 * 250 + 125, 200 + 2 * 150 + 45)
    result = parse(words)
    assert result.layout == "days_as_rows"
    assert sorted((c.day_of_week, c.start_time, c.end_time, c.course_name) for c in result.classes) == [
        (0, "09:00", "10:00", "Biology"),
        (1, "11:00", "12:00", "Chemistry"),
        (2, "12:00", "13:00", "Statistics"),
    ]


def test_list_style_one_line_per_class():
    words = []
    rows = [("Monday", "09:00 - 10:30", "Organic Chemistry", "Room 1.02"), ("Wed", "8.30–10.00", "Anatomy", "Hall A"),
            ("Freitag", "14:00 bis 15:30", "Statistik", "Raum 204"), ("Jueves", "4pm-5:30pm", "Sociología", "Aula 7")]  # fmt: skip
    for i, (day, time, course, room) in enumerate(rows):
        y = 100 + i * 60
        words += place(day, 60, y) + place(time, 300, y) + place(course, 600, y) + place(room, 1100, y)
    result = parse(words)
    assert result.layout == "list"
    assert [(c.day_of_week, c.start_time, c.end_time, c.course_name, c.location) for c in result.classes] == [
        (0, "09:00", "10:30", "Organic Chemistry", "Room 1.02"),
        (2, "08:30", "10:00", "Anatomy", "Hall A"),
        (3, "16:00", "17:30", "Sociología", "Aula 7"),
        (4, "14:00", "15:30", "Statistik", "Raum 204"),
    ]


def test_list_with_day_headings():
    words = place("Monday", 60, 100) + place("09:00-10:00 Calculus", 80, 150) + place("11:00-12:00 Physics", 80, 200)
    words += place("Tuesday", 60, 260) + place("13:00-14:30 Chemistry Lab", 80, 310)
    assert _classes(words) == [
        (0, "09:00", "10:00", "Calculus"),
        (0, "11:00", "12:00", "Physics"),
        (1, "13:00", "14:30", "Chemistry"),
    ]


def test_confidence_comes_from_the_words():
    words = place("Monday", 60, 100) + place("09:00-10:00", 300, 100) + place("Calculus", 600, 100, conf=0.3)
    [c] = parse(words).classes
    assert c.confidence < 0.6
    [c] = parse(place("Monday 09:00-10:00 Calculus", 60, 100, conf=0.97)).classes
    assert c.confidence > 0.9


def test_words_on_several_pages_are_read_per_page():
    p0 = place("Monday 09:00-10:00 Calculus", 60, 100, page=0)
    p1 = place("Tuesday 09:00-10:00 Physics", 60, 100, page=1)
    assert _classes(p0 + p1) == [(0, "09:00", "10:00", "Calculus"), (1, "09:00", "10:00", "Physics")]


def test_text_without_days_or_times_is_no_timetable():
    words = place("Summer holiday at the lake", 60, 100) + place("We swam and read books all week.", 60, 150)
    with pytest.raises(NoTimetableFound, match="no days or times found"):
        parse(words)
    with pytest.raises(NoTimetableFound, match="no days or times found"):
        parse([])


def test_days_and_times_without_classes_say_so():
    words = _header(["Monday", "Tuesday"]) + _row_labels(["09:00", "10:00"])
    with pytest.raises(NoTimetableFound, match="no classes"):
        parse(words)


def test_rules_and_noise_are_ignored():
    words = place("Monday | 09:00-10:00 | Calculus", 60, 100) + place("~~", 800, 400, conf=0.05)
    assert _classes(words) == [(0, "09:00", "10:00", "Calculus")]


def test_row_labels_written_as_ranges_and_dates_under_the_day_names():
    words = _header(["Montag", "Dienstag", "Mittwoch"]) + _header(["12.05.", "13.05.", "14.05."], y=125)
    words += _row_labels(["08:00-09:30", "09:45-11:15", "11:30-13:00"])
    words += cell(["Analysis I", "Raum 204"], COLS[0], _in_row(1, ["a", "b"]))
    words += cell(["Physik", "Vorlesung"], COLS[2], _in_row(2, ["a", "b"]))
    result = parse(words)
    assert sorted((c.day_of_week, c.start_time, c.end_time, c.course_name, c.location) for c in result.classes) == [
        (0, "09:45", "11:15", "Analysis I", "Raum 204"),
        (2, "11:30", "13:00", "Physik", ""),
    ]
    assert next(c for c in result.classes if c.course_name == "Physik").class_type == "lecture"


def test_a_bar_after_a_word_is_the_letter_i():
    words = place("Monday 09:00-10:00 Analysis", 60, 100) + place("|", 60 + 27 * 11 + 11, 100)
    assert _classes(words) == [(0, "09:00", "10:00", "Analysis I")]
