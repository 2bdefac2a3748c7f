"""Weekly reports: figures for a Monday..Sunday week in the user's zone, stored once per week, and a
PDF (reportlab) with two matplotlib charts: hours per course (bars) and grades over time (line)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.events import publish
from core.files import random_name
from core.models import User
from core.registry import ports
from modules.tracker import grading
from modules.tracker.events import WeeklyReportGenerated
from modules.tracker.models import PlanStatus, Result, StudyPlan, StudySession, WeeklyReport
from modules.tracker.services import gpa_summary, live_courses, user_zone

logger = logging.getLogger(__name__)
INSIGHTS_PORT = "coach.weekly_insights"


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def build_report_data(user: User, week_start: dt.date) -> dict[str, Any]:
    zone = user_zone(user)
    week_end = week_start + dt.timedelta(days=6)
    start_utc = dt.datetime.combine(week_start, dt.time(0), tzinfo=zone)
    end_utc = dt.datetime.combine(week_end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    courses = {c.id: c for c in live_courses(user)}
    sessions = list(
        StudySession.objects.filter(
            user=user, ended_at__isnull=False, started_at__gte=start_utc, started_at__lt=end_utc
        ).values_list("course_id", "started_at", "duration_minutes")
    )
    plans = list(
        StudyPlan.objects.filter(user=user, date__gte=week_start, date__lte=week_end).values_list(
            "date", "planned_minutes", "status"
        )
    )
    minutes_by_course: dict[Any, int] = defaultdict(int)
    actual_by_day: dict[dt.date, int] = defaultdict(int)
    for course_id, started, minutes in sessions:
        minutes_by_course[course_id] += minutes
        actual_by_day[started.astimezone(zone).date()] += minutes
    planned_by_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])  # minutes, plans, completed
    for date, planned, status in plans:
        row = planned_by_day[date]
        row[0] += planned
        row[1] += 1
        row[2] += status == PlanStatus.COMPLETED
    total_plans = len(plans)
    completed = sum(1 for p in plans if p[2] == PlanStatus.COMPLETED)
    hours = {cid: minutes_by_course.get(cid, 0) for cid, c in courses.items() if c.is_active}
    for cid, minutes in minutes_by_course.items():
        if cid in courses:
            hours[cid] = minutes
    ranked = sorted(hours.items(), key=lambda kv: (kv[1], courses[kv[0]].code))
    most = ranked[-1] if ranked and ranked[-1][1] > 0 else None
    least = ranked[0] if ranked else None

    def course_ref(item: tuple[Any, int] | None) -> dict[str, Any] | None:
        if item is None:
            return None
        c = courses[item[0]]
        return {"id": str(c.id), "name": c.name, "code": c.code, "hours": str(grading.q2(Decimal(item[1]) / 60))}

    gpa = gpa_summary(user)
    grade_points = list(
        Result.objects.filter(user=user, course_id__in=list(courses), date__lte=week_end)
        .order_by("date")
        .values_list("date", "percentage")[:500]
    )
    daily = []
    for i in range(7):
        day = week_start + dt.timedelta(days=i)
        p_minutes, p_count, p_done = planned_by_day.get(day, [0, 0, 0])
        daily.append(
            {
                "date": day.isoformat(),
                "planned_hours": str(grading.q2(Decimal(p_minutes) / 60)),
                "actual_hours": str(grading.q2(Decimal(actual_by_day.get(day, 0)) / 60)),
                "completion_rate": str(grading.q2(Decimal(p_done) * 100 / p_count)) if p_count else None,
            }
        )
    return {
        "week_start": week_start.isoformat(),
        "week_end": week_end.isoformat(),
        "total_study_hours": str(grading.q2(Decimal(sum(m for _, _, m in sessions)) / 60)),
        "planned_hours": str(grading.q2(Decimal(sum(p[1] for p in plans)) / 60)),
        "completion_rate": str(grading.q2(Decimal(completed) * 100 / total_plans)) if total_plans else "0.00",
        "plans": {"total": total_plans, "completed": completed, "missed": sum(1 for p in plans if p[2] == PlanStatus.MISSED)},
        "hours_by_course": [course_ref(item) for item in sorted(hours.items(), key=lambda kv: -kv[1])],
        "most_studied_course": course_ref(most),
        "least_studied_course": course_ref(least),
        "performance_trend": gpa["trend"],
        "gpa": {
            "current": str(gpa["current"]) if gpa["current"] is not None else None,
            "cumulative": str(gpa["cumulative"]) if gpa["cumulative"] is not None else None,
        },
        "grades_over_time": [{"date": d.isoformat(), "percentage": str(p)} for d, p in grade_points],
        "daily_breakdown": daily,
    }


def insights_for(user: User, data: dict[str, Any]) -> list[str]:
    """Ask the coach module (when on) for insights; absent or failing: none."""
    if not ports.has(INSIGHTS_PORT):
        return []
    try:
        result = ports.get(INSIGHTS_PORT)(user, data)
        return [str(line)[:1000] for line in (result or [])][:20]
    except Exception:
        logger.exception("coach.weekly_insights failed; report stored without insights")
        return []


def render_pdf(user: User, data: dict[str, Any], insights: list[str]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from xml.sax.saxutils import escape

    from matplotlib.figure import Figure
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    def chart_png(draw: Any) -> io.BytesIO:
        fig = Figure(figsize=(7, 3), dpi=100)
        ax = fig.add_subplot(1, 1, 1)
        draw(ax)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        buf.seek(0)
        return buf

    courses = [c for c in data["hours_by_course"] if c]

    def bars(ax: Any) -> None:
        ax.bar([c["code"] for c in courses] or ["-"], [float(c["hours"]) for c in courses] or [0], color="#4C72B0")
        ax.set_title("Hours studied per course")
        ax.set_ylabel("hours")

    points = data["grades_over_time"]

    def line(ax: Any) -> None:
        if points:
            ax.plot(
                [dt.date.fromisoformat(p["date"]) for p in points],
                [float(p["percentage"]) for p in points],
                marker="o",
                color="#DD8452",
            )
        ax.set_ylim(0, 105)
        ax.set_title("Grades over time (%)")
        ax.figure.autofmt_xdate()

    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Weekly report {data['week_start']}", author="Study tracker")
    most, least = data["most_studied_course"], data["least_studied_course"]
    rows = [
        ["Week", f"{data['week_start']} to {data['week_end']}"],
        ["Hours studied", data["total_study_hours"]],
        ["Hours planned", data["planned_hours"]],
        ["Plan completion", f"{data['completion_rate']} %"],
        ["Most studied", f"{most['code']} ({most['hours']} h)" if most else "-"],
        ["Least studied", f"{least['code']} ({least['hours']} h)" if least else "-"],
        ["Performance trend", data["performance_trend"]],
        ["GPA (current / cumulative)", f"{data['gpa']['current'] or '-'} / {data['gpa']['cumulative'] or '-'}"],
    ]
    table = Table(rows, colWidths=[6 * cm, 10 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)]))
    story: list[Any] = [
        Paragraph(escape(f"Weekly study report for {user.full_name}"), styles["Title"]),
        table,
        Spacer(1, 0.5 * cm),
        Image(chart_png(bars), width=17 * cm, height=7.3 * cm),
        Spacer(1, 0.3 * cm),
        Image(chart_png(line), width=17 * cm, height=7.3 * cm),
    ]
    if insights:
        story.append(Paragraph("Insights", styles["Heading2"]))
        story.extend(Paragraph(escape(line), styles["BodyText"]) for line in insights)
    doc.build(story)
    return out.getvalue()


def generate_weekly_report(user: User, week_start: dt.date, *, now: dt.datetime | None = None) -> WeeklyReport:
    """Build (or rebuild) the user's report for the week starting ``week_start`` (a Monday)."""
    week_start = week_bounds(week_start)[0]
    data = build_report_data(user, week_start)
    insights = insights_for(user, data)
    pdf = render_pdf(user, data, insights)
    name = default_storage.save(random_name("tracker/reports", "pdf"), ContentFile(pdf))
    most, least = data["most_studied_course"], data["least_studied_course"]
    with transaction.atomic():
        report, created = WeeklyReport.objects.select_for_update().get_or_create(
            user=user, week_start=week_start, defaults={"week_end": week_start + dt.timedelta(days=6)}
        )
        old_pdf = report.pdf_name
        report.week_end = week_start + dt.timedelta(days=6)
        report.total_study_hours = Decimal(data["total_study_hours"])
        report.planned_hours = Decimal(data["planned_hours"])
        report.completion_rate = Decimal(data["completion_rate"])
        report.most_studied_course_id = most["id"] if most else None
        report.least_studied_course_id = least["id"] if least else None
        report.performance_trend = data["performance_trend"]
        report.insights = insights
        report.data = data
        report.pdf_name = name
        report.generated_at = now or timezone.now()
        report.save()
        publish(WeeklyReportGenerated(user_id=user.pk, report_id=report.pk, week_start=week_start))
    if old_pdf and old_pdf != name:
        transaction.on_commit(lambda: default_storage.delete(old_pdf))
    return report


def read_pdf(report: WeeklyReport) -> bytes:
    with default_storage.open(report.pdf_name, "rb") as fh:
        return fh.read()
