from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from core.registry import ports
from modules.tracker.models import WeeklyReport
from modules.tracker.tasks import generate_weekly_reports
from tests.modules.tracker.conftest import add_result, make_course

pytestmark = pytest.mark.django_db


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def last_week(api):
    """Last week (UTC user): CS 3 h over two sessions, MA 1 h, NET nothing; results for the line chart."""
    today = timezone.now().date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    cs = make_course(api, "CS", name="Data Structures", credits=4)
    ma = make_course(api, "MA", name="Linear Algebra")
    make_course(api, "NET", name="Networks")
    base = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
    for course, start, minutes in ((cs, base, 120), (cs, base + dt.timedelta(days=2), 60), (ma, base + dt.timedelta(days=3), 60)):
        res = api.post(
            "/tracker/sessions",
            {"course_id": course["id"], "started_at": iso(start), "ended_at": iso(start + dt.timedelta(minutes=minutes))},
        )
        assert res.status_code == 201, res.content
    for i, score in enumerate((70, 78, 91)):
        add_result(api, cs["id"], score, date=(monday - dt.timedelta(days=30 - 10 * i)).isoformat())
    return monday, cs, ma


def test_weekly_report_figures_and_pdf(api, last_week):
    monday, cs, ma = last_week
    res = api.post(
        "/tracker/reports/generate", {"week_start": (monday + dt.timedelta(days=3)).isoformat()}
    )  # any day of the week
    assert res.status_code == 201, res.content
    report = res.json()
    assert report["week_start"] == monday.isoformat() and report["week_end"] == (monday + dt.timedelta(days=6)).isoformat()
    assert report["total_study_hours"] == 4.0
    assert report["most_studied_course_id"] == cs["id"]
    assert report["data"]["least_studied_course"]["code"] == "NET"
    assert report["data"]["most_studied_course"]["hours"] == "3.00"

    pdf = api.get(report["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) >= 1
    assert sum(len(page.images) for page in reader.pages) >= 2  # the bar chart and the grade line
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Weekly study report" in text and "4.00" in text

    again = api.post("/tracker/reports/generate", {"week_start": monday.isoformat()}).json()
    assert again["id"] == report["id"]  # stored once per (user, week)
    assert WeeklyReport.objects.count() == 1
    assert api.get("/tracker/reports").json()["total"] == 1


def test_report_pdf_only_for_its_owner(api, last_week, make_user, client_for):
    monday, *_ = last_week
    report = api.post("/tracker/reports/generate", {"week_start": monday.isoformat()}).json()
    other = client_for(make_user())
    assert other.get(report["pdf_url"]).status_code == 404
    assert other.get(f"/tracker/reports/{report['id']}").status_code == 404


@pytest.fixture
def insights_port():
    """Swap the coach module's insights port (when it is on) for the test's, and put it back after."""
    name = "coach.weekly_insights"
    previous = ports.get(name) if ports.has(name) else None
    yield name
    if previous is not None:
        ports.register(name, previous)
    else:
        ports.unregister(name)


def test_coach_insights_stored_when_the_port_answers_none_when_absent_or_failing(api, last_week, insights_port):
    monday, *_ = last_week
    seen = {}

    def insights(user, data):
        seen["hours"] = data["total_study_hours"]
        return ["Great week.", "Networks needs time."]

    ports.register(insights_port, insights)
    report = api.post("/tracker/reports/generate", {"week_start": monday.isoformat()}).json()
    assert report["insights"] == ["Great week.", "Networks needs time."] and seen["hours"] == "4.00"

    def broken(user, data):
        raise RuntimeError("model offline")

    ports.register(insights_port, broken)
    report = api.post("/tracker/reports/generate", {"week_start": monday.isoformat()})
    assert report.status_code == 201 and report.json()["insights"] == []

    ports.unregister(insights_port)  # the coach module switched off
    report = api.post("/tracker/reports/generate", {"week_start": monday.isoformat()})
    assert report.status_code == 201 and report.json()["insights"] == []


def test_scheduled_report_on_the_users_day_in_their_zone_is_emailed_once(
    make_user, client_for, django_capture_on_commit_callbacks
):
    """Friday 18:00 in Tokyo is Friday 09:00 UTC."""
    user = make_user(timezone="Asia/Tokyo")
    api = client_for(user)
    make_course(api)
    api.patch("/tracker/preferences", {"weekly_report_day": "friday", "weekly_report_time": "18:00"})
    mail.outbox.clear()
    friday = dt.datetime(2031, 3, 14, 9, 0, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_weekly_reports(now=friday - dt.timedelta(minutes=15)) == 0
        assert generate_weekly_reports(now=friday) == 1
        assert generate_weekly_reports(now=friday + dt.timedelta(minutes=30)) == 0
        assert generate_weekly_reports(now=friday + dt.timedelta(days=1)) == 0
    report = WeeklyReport.objects.get(user=user)
    assert report.week_start == dt.date(2031, 3, 10) and report.email_sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and "2031-03-10" in message.subject
    ((name, content, mime),) = message.attachments
    assert mime == "application/pdf" and len(PdfReader(io.BytesIO(content)).pages) >= 1
    assert default_storage.exists(report.pdf_name)


def test_no_scheduled_report_when_turned_off(make_user, client_for, django_capture_on_commit_callbacks):
    user = make_user(timezone="UTC")
    api = client_for(user)
    make_course(api)
    api.patch("/tracker/preferences", {"weekly_report_enabled": False})
    sunday_evening = dt.datetime(2031, 3, 16, 20, 0, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_weekly_reports(now=sunday_evening) == 0
    assert not WeeklyReport.objects.exists()
