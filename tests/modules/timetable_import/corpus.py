"""A deterministic corpus of timetables, drawn by the tests (Pillow, DejaVu Sans, reportlab for the PDF
with a text layer). Each sample knows the classes it shows, so a real OCR run can be scored."""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass
class Sample:
    name: str
    filename: str
    data: bytes
    expected: list[tuple[int, str, str, str]] = field(default_factory=list)  # (day 0=Mon, start, end, course)
    failure: str | None = None  # the reason a non-timetable must fail with


@dataclass
class Slot:
    day: int
    row: int  # first row index
    span: int
    lines: list[str]
    fill: tuple[int, int, int] | None = None


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT), size)


def _centred(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], lines: list[str], size: int, bold_first=True):
    x0, y0, x1, y1 = box
    pitch = size * 1.35
    total = pitch * len(lines)
    y = (y0 + y1) / 2 - total / 2
    for i, line in enumerate(lines):
        f = font(size, bold_first and i == 0)
        w = draw.textlength(line, font=f)
        draw.text(((x0 + x1) / 2 - w / 2, y), line, fill=(20, 20, 20), font=f)
        y += pitch


def draw_grid(
    *,
    day_labels: list[str],
    row_labels: list[str],
    slots: list[Slot],
    days_as_rows: bool = False,
    title: str = "",
    size: int = 24,
    cell_w: int = 300,
    cell_h: int = 120,
    label_w: int = 170,
) -> Image.Image:
    """A ruled timetable grid. Days across the top (or down the side), times on the other axis."""
    n_days, n_rows = len(day_labels), len(row_labels)
    top = 110 if title else 40
    head = round(70 * size / 24)
    if days_as_rows:
        cols, rows_ = n_rows, n_days
        col_w, row_h = 230, 150
        lw = 220
    else:
        cols, rows_ = n_days, n_rows
        col_w, row_h = cell_w, cell_h
        lw = label_w
    width = 40 + lw + cols * col_w + 40
    height = top + head + rows_ * row_h + 40
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    if title:
        d.text((40, 35), title, fill=(0, 0, 0), font=font(size + 8, True))
    gx, gy = 40 + lw, top + head

    def cell_box(day: int, row: int, span: int) -> tuple[float, float, float, float]:
        if days_as_rows:
            return (gx + row * col_w, gy + day * row_h, gx + (row + span) * col_w, gy + (day + 1) * row_h)
        return (gx + day * col_w, gy + row * row_h, gx + (day + 1) * col_w, gy + (row + span) * row_h)

    for s in slots:
        if s.fill:
            d.rectangle(cell_box(s.day, s.row, s.span), fill=s.fill)
    # rules
    line = (90, 90, 90)
    d.rectangle((40, top, width - 40, height - 40), outline=line, width=2)
    for c in range(cols + 1):
        x = gx + c * col_w
        d.line((x, top, x, height - 40), fill=line, width=2)
    for r in range(rows_ + 1):
        y = gy + r * row_h
        d.line((40, y, width - 40, y), fill=line, width=2)
    # erase the rule inside merged cells
    for s in slots:
        if s.span > 1:
            x0, y0, x1, y1 = cell_box(s.day, s.row, s.span)
            d.rectangle((x0 + 2, y0 + 2, x1 - 2, y1 - 2), fill=s.fill or "white")
    # headers
    for i, label in enumerate(day_labels):
        if days_as_rows:
            _centred(d, (40, gy + i * row_h, gx, gy + (i + 1) * row_h), [label], size, True)
        else:
            _centred(d, (gx + i * col_w, top, gx + (i + 1) * col_w, gy), [label], size, True)
    for i, label in enumerate(row_labels):
        if days_as_rows:
            _centred(d, (gx + i * col_w, top, gx + (i + 1) * col_w, gy), [label], size - 2, False)
        else:
            _centred(d, (40, gy + i * row_h, gx, gy + (i + 1) * row_h), [label], size - 2, False)
    for s in slots:
        _centred(d, cell_box(s.day, s.row, s.span), s.lines, size - 3 if len(s.lines) > 2 else size - 2)
    return img


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def jpeg(img: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


HOURS = [f"{h:02d}:00" for h in range(8, 17)]


def _hour(row: int, offset: int = 8) -> str:
    return f"{row + offset:02d}:00"


# --- the samples -------------------------------------------------------------------------------------


def columns_grid(scale: float = 1.0) -> Sample:
    slots = [
        Slot(0, 1, 1, ["CS 301", "Algorithms", "Room B-204"]),
        Slot(0, 4, 1, ["MATH-101", "Linear Algebra", "Hall A"]),
        Slot(1, 0, 1, ["PHY 110", "Mechanics", "Room 3.12"]),
        Slot(2, 2, 1, ["CS 305", "Databases", "Lab C-101"]),
        Slot(3, 5, 1, ["ECON 200", "Microeconomics", "Room 2.04"]),
        Slot(4, 1, 1, ["HIST 150", "World History", "Hall B"]),
    ]
    img = draw_grid(
        day_labels=EN_DAYS,
        row_labels=HOURS,
        slots=slots,
        title="Timetable - Spring 2026",
        size=round(24 * scale),
        cell_w=round(300 * scale),
        cell_h=round(120 * scale),
        label_w=round(170 * scale),
    )
    expected = [(s.day, _hour(s.row), _hour(s.row + s.span), s.lines[1]) for s in slots]
    return Sample("days_as_columns", "columns.png", png(img), expected)


def rows_grid() -> Sample:
    slots = [
        Slot(0, 0, 1, ["Biology", "Room 1.10"]),
        Slot(0, 3, 1, ["Chemistry", "Lab 2"]),
        Slot(1, 1, 1, ["Statistics", "Hall C"]),
        Slot(2, 2, 1, ["Philosophy", "Room 4.01"]),
        Slot(3, 0, 1, ["Sociology", "B-112"]),
        Slot(4, 4, 1, ["Genetics", "Room 5.20"]),
    ]
    labels = [f"{h:02d}:00" for h in range(9, 15)]
    img = draw_grid(day_labels=EN_DAYS, row_labels=labels, slots=slots, days_as_rows=True, title="Week plan")
    expected = [(s.day, _hour(s.row, 9), _hour(s.row + s.span, 9), s.lines[0]) for s in slots]
    return Sample("days_as_rows", "rows.png", png(img), expected)


LIST_CLASSES = [
    (0, "09:00", "10:30", "Organic Chemistry", "Room 1.02"),
    (0, "13:00", "14:30", "Calculus", "B-204"),
    (1, "10:00", "11:30", "Programming", "Lab C-3"),
    (2, "08:30", "10:00", "Anatomy", "Hall A"),
    (3, "14:00", "15:30", "Psychology", "Room 2.15"),
    (4, "11:00", "12:30", "Literature", "Room 4.08"),
]


def list_style() -> Sample:
    img = Image.new("RGB", (1700, 120 + 80 * len(LIST_CLASSES)), "white")
    d = ImageDraw.Draw(img)
    d.text((60, 30), "My classes", fill="black", font=font(34, True))
    for i, (day, start, end, course, room) in enumerate(LIST_CLASSES):
        y = 110 + i * 80
        d.text((60, y), EN_DAYS[day], fill="black", font=font(28))
        d.text((330, y), f"{start} - {end}", fill="black", font=font(28))
        d.text((640, y), course, fill="black", font=font(28))
        d.text((1200, y), room, fill="black", font=font(28))
    expected = [(day, s, e, c) for day, s, e, c, _ in LIST_CLASSES]
    return Sample("list_style", "list.png", png(img), expected)


def coloured() -> Sample:
    colours = [(255, 224, 178), (200, 230, 201), (187, 222, 251), (248, 187, 208), (225, 190, 231), (255, 249, 196)]
    data = [
        (0, 0, "08:15-09:45", "Anatomy", "Room 1.01"),
        (1, 2, "10:15-11:45", "Physiology", "Hall B"),
        (2, 1, "09:00-10:30", "Biochemistry", "Lab D-12"),
        (3, 4, "12:30-14:00", "Pharmacology", "Room 2.22"),
        (4, 3, "11:00-12:30", "Pathology", "Hall A"),
        (2, 5, "13:30-15:00", "Immunology", "Room 3.03"),
    ]
    slots = [Slot(day, row, 1, [t, name, room], colours[i % len(colours)]) for i, (day, row, t, name, room) in enumerate(data)]
    img = draw_grid(day_labels=["Mon", "Tue", "Wed", "Thu", "Fri"], row_labels=[""] * 6, slots=slots, label_w=60)
    expected = [(day, t[:5], t[6:], name) for day, _row, t, name, _room in data]
    return Sample("coloured_cells", "coloured.png", png(img), expected)


def photo() -> Sample:
    base = columns_grid(scale=1.5)  # a phone photo has more pixels than a screenshot
    img = Image.open(io.BytesIO(base.data)).convert("RGB")
    # uneven light: a diagonal gradient from bright to a shadowed corner
    w, h = img.size
    xs, ys = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    shade = Image.fromarray((255 - 90 * xs * ys).astype(np.uint8), mode="L")
    img = _multiply(img, shade)
    img = img.rotate(-4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(205, 195, 180))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    # sensor noise
    noise = Image.effect_noise(img.size, 12).convert("RGB")
    img = Image.blend(img, noise, 0.06)
    return Sample("photo_rotated_blurred", "photo.jpg", jpeg(img, 72), base.expected)


def _multiply(img: Image.Image, shade: Image.Image) -> Image.Image:
    from PIL import ImageChops

    return ImageChops.multiply(img, Image.merge("RGB", (shade, shade, shade)))


PDF_CLASSES = [
    (0, "08:00", "09:30", "Thermodynamics", "ME 210", "Room 1.14"),
    (1, "10:00", "11:30", "Fluid Mechanics", "ME 220", "Hall B"),
    (2, "12:00", "13:30", "Materials Science", "ME 230", "Lab E-2"),
    (3, "09:00", "10:30", "Control Systems", "EE 240", "Room 2.03"),
    (4, "14:00", "15:30", "Robotics", "ME 310", "Room 3.30"),
]


def pdf_text_layer() -> Sample:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=landscape(A4), invariant=1)
    width, height = landscape(A4)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(40, height - 50, "Semester timetable")
    col_w = (width - 120) / 5
    top = height - 90
    c.setFont("Helvetica-Bold", 12)
    for i, day in enumerate(EN_DAYS):
        c.drawCentredString(100 + col_w * i + col_w / 2, top, day)
    c.setFont("Helvetica", 10)
    for day, start, end, name, code, room in PDF_CLASSES:
        y = top - 40 - (int(start[:2]) - 8) * 45
        x = 100 + col_w * day + col_w / 2
        for j, text in enumerate([f"{start}-{end}", code, name, room]):
            c.drawCentredString(x, y - j * 13, text)
        c.rect(100 + col_w * day + 4, y - 3 * 13 - 6, col_w - 8, 4 * 13 + 8)
    c.showPage()
    c.save()
    expected = [(d, s, e, n) for d, s, e, n, _, _ in PDF_CLASSES]
    return Sample("pdf_text_layer", "text.pdf", out.getvalue(), expected)


def pdf_scanned() -> Sample:
    base = rows_grid()
    img = Image.open(io.BytesIO(base.data)).convert("L")
    out = io.BytesIO()
    img.save(out, format="PDF", resolution=150)
    return Sample("pdf_scanned", "scan.pdf", out.getvalue(), base.expected)


def german() -> Sample:
    data = [
        (0, "8.15–9.45", "08:15", "09:45", "Analysis I", "Vorlesung", "Raum 204"),
        (1, "10.00–11.30", "10:00", "11:30", "Physik", "Übung", "HS 3"),
        (2, "12:00 bis 13:30", "12:00", "13:30", "Informatik", "Vorlesung", "Raum 1.12"),
        (3, "14.00–15.30", "14:00", "15:30", "Chemie", "Praktikum", "Labor C"),
        (4, "9.00–10.30", "09:00", "10:30", "Statistik", "Seminar", "Raum 3.01"),
    ]
    rows = {"08": 0, "10": 1, "12": 2, "14": 3, "09": 0}
    slots = [Slot(d, rows[s[:2]], 1, [txt, name, kind, room]) for d, txt, s, _e, name, kind, room in data]
    img = draw_grid(
        day_labels=["Mo.", "Di.", "Mi.", "Do.", "Fr."],
        row_labels=[""] * 4,
        slots=slots,
        label_w=60,
        cell_h=170,
        title="Stundenplan",
    )
    expected = [(d, s, e, name) for d, _t, s, e, name, _k, _r in data]
    return Sample("german", "stundenplan.png", png(img), expected)


def french() -> Sample:
    data = [
        (0, "8h-10h", "08:00", "10:00", "Algèbre", "CM", "Salle B12"),
        (1, "10h15-11h45", "10:15", "11:45", "Histoire", "TD", "Salle A3"),
        (2, "14h-15h30", "14:00", "15:30", "Économie", "CM", "Amphi 2"),
        (3, "13h30-15h", "13:30", "15:00", "Biologie", "TP", "Salle C07"),
        (4, "9h-10h30", "09:00", "10:30", "Philosophie", "TD", "Salle D21"),
    ]
    slots = [Slot(d, i, 1, [t, name, kind, room]) for i, (d, t, _s, _e, name, kind, room) in enumerate(data)]
    img = draw_grid(
        day_labels=["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi"],
        row_labels=[""] * 5,
        slots=slots,
        label_w=60,
        cell_h=170,
        title="Emploi du temps",
    )
    expected = [(d, s, e, name) for d, _t, s, e, name, _k, _r in data]
    return Sample("french", "emploi.png", png(img), expected)


def merged() -> Sample:
    slots = [
        Slot(0, 0, 2, ["Software Engineering", "Room 1.20"]),
        Slot(1, 2, 2, ["Operating Systems", "Hall B"]),
        Slot(2, 1, 1, ["Networks", "Room 2.02"]),
        Slot(3, 3, 2, ["Compilers", "Lab F-1"]),
        Slot(4, 0, 1, ["Ethics", "Room 0.11"]),
        Slot(4, 4, 2, ["Graphics", "Room 3.14"]),
    ]
    labels = [f"{h:02d}:00" for h in range(9, 16)]
    img = draw_grid(day_labels=EN_DAYS, row_labels=labels, slots=slots, title="Timetable")
    expected = [(s.day, _hour(s.row, 9), _hour(s.row + s.span, 9), s.lines[0]) for s in slots]
    return Sample("merged_two_hours", "merged.png", png(img), expected)


def twelve_hour() -> Sample:
    labels = ["8 AM", "9 AM", "10 AM", "11 AM", "12 PM", "1 PM", "2 PM", "3 PM"]
    data = [
        (0, 1, "9:00 AM - 10:30 AM", "09:00", "10:30", "Marketing"),
        (1, 5, "1:00 PM - 2:30 PM", "13:00", "14:30", "Accounting"),
        (2, 3, "11:00 AM - 12:15 PM", "11:00", "12:15", "Finance"),
        (3, 6, "2:00 PM - 3:30 PM", "14:00", "15:30", "Management"),
        (4, 0, "8am-9:30am", "08:00", "09:30", "Statistics"),
    ]
    slots = [Slot(d, row, 1, [t, name]) for d, row, t, _s, _e, name in data]
    img = draw_grid(day_labels=["Mon", "Tue", "Wed", "Thu", "Fri"], row_labels=labels, slots=slots)
    expected = [(d, s, e, name) for d, _r, _t, s, e, name in data]
    return Sample("twelve_hour", "twelve.png", png(img), expected)


def spanish_list() -> Sample:
    data = [
        (0, "Lunes", "09:00", "10:30", "Derecho Civil", "Aula 12"),
        (2, "Miércoles", "11:00", "12:30", "Economía", "Aula 3"),
        (3, "Jueves", "16:00", "17:30", "Sociología", "Aula 7"),
    ]
    img = Image.new("RGB", (1500, 420), "white")
    d = ImageDraw.Draw(img)
    d.text((60, 30), "Horario", fill="black", font=font(34, True))
    for i, (_day, label, s, e, name, room) in enumerate(data):
        y = 110 + i * 90
        d.text((60, y), label, fill="black", font=font(28))
        d.text((330, y), f"{s} - {e}", fill="black", font=font(28))
        d.text((640, y), name, fill="black", font=font(28))
        d.text((1100, y), room, fill="black", font=font(28))
    return Sample("spanish_list", "horario.png", png(img), [(day, s, e, n) for day, _l, s, e, n, _r in data])


def not_a_timetable() -> Sample:
    img = Image.new("RGB", (1400, 900), (235, 240, 245))
    d = ImageDraw.Draw(img)
    rng = random.Random(3)
    for _ in range(40):  # a landscape of shapes
        x, y, r = rng.randint(0, 1400), rng.randint(300, 900), rng.randint(20, 120)
        d.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randint(40, 120), rng.randint(100, 180), rng.randint(40, 100)))
    d.polygon([(200, 500), (500, 150), (800, 500)], fill=(120, 120, 130))
    d.text((80, 60), "Summer holiday at the lake", fill=(30, 30, 30), font=font(44, True))
    d.text((80, 130), "We swam, cooked outside and read books all week.", fill=(30, 30, 30), font=font(28))
    for i in range(12):
        a = i * math.pi / 6
        d.line((1200, 150, 1200 + 90 * math.cos(a), 150 + 90 * math.sin(a)), fill=(240, 200, 40), width=6)
    return Sample("not_a_timetable", "holiday.jpg", jpeg(img, 85), [], failure="no days or times found")


def corpus() -> list[Sample]:
    return [
        columns_grid(),
        rows_grid(),
        list_style(),
        coloured(),
        photo(),
        pdf_text_layer(),
        pdf_scanned(),
        german(),
        french(),
        merged(),
        twelve_hour(),
        spanish_list(),
        not_a_timetable(),
    ]
