from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from modules.tracker.models import Result
from tests.modules.tracker.conftest import make_course

pytestmark = pytest.mark.django_db

HEADER = "course_code,assessment_type,assessment_name,score,max_score,date,weight\n"


def upload(api, text: str, all_or_nothing: bool | None = None):
    files = {"file": SimpleUploadedFile("results.csv", text.encode(), content_type="text/csv")}
    body = {} if all_or_nothing is None else {"all_or_nothing": "true" if all_or_nothing else "false"}
    return api.post("/tracker/results/import", body, files=files)


BAD_FILE = (
    HEADER
    + "CS201,quiz,Quiz 1,18,20,2030-09-10,10\n"  # row 2: good
    + "XX999,quiz,Quiz 1,18,20,2030-09-10,10\n"  # row 3: unknown course
    + "cs201,midterm,Midterm,85,100,2030-10-15,30\n"  # row 4: good (codes match case-insensitively)
    + "MA202,final,Final,120,100,2030-12-15,60\n"  # row 5: score over max
    + "MA202,project,Project,40,50,15/12/2030,20\n"  # row 6: bad date
    + "MA202,assignment,HW,9.5,10,2030-11-01,\n"  # row 7: good, no weight
)


def test_import_keeps_good_rows_and_reports_bad_ones(api):
    make_course(api, "CS201")
    make_course(api, "MA202")
    res = upload(api, BAD_FILE)
    assert res.status_code == 200, res.content
    report = res.json()
    assert report["imported"] == 3 and report["total_rows"] == 6 and report["rolled_back"] is False
    refused = {r["row"]: r["reason"] for r in report["refused"]}
    assert set(refused) == {3, 5, 6}
    assert "XX999" in refused[3] and "exceeds" in refused[5] and "date" in refused[6]
    results = api.get("/tracker/results").json()
    assert results["total"] == 3
    by_name = {r["name"]: r for r in results["items"]}
    assert by_name["Midterm"]["percentage"] == 85.0 and by_name["Midterm"]["grade"] == "B"
    assert by_name["HW"]["percentage"] == 95.0 and by_name["HW"]["weight"] is None
    assert by_name["Quiz 1"]["semester"] == "Fall 2030"  # the course's semester when the file has none


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(api):
    make_course(api, "CS201")
    make_course(api, "MA202")
    report = upload(api, BAD_FILE, all_or_nothing=True).json()
    assert report["imported"] == 0 and report["rolled_back"] is True and len(report["refused"]) == 3
    assert api.get("/tracker/results").json()["total"] == 0
    good_only = HEADER + "CS201,quiz,Quiz 1,18,20,2030-09-10,10\n"
    assert upload(api, good_only, all_or_nothing=True).json()["imported"] == 1


def test_import_refuses_a_file_without_the_needed_columns(api):
    res = upload(api, "code,points\nCS201,5\n")
    assert res.status_code == 422 and res.json()["code"] == "csv_header"


def test_import_refuses_binary_content(api):
    files = {"file": SimpleUploadedFile("r.csv", b"%PDF-1.4 not a csv", content_type="text/csv")}
    assert api.post("/tracker/results/import", {}, files=files).status_code == 415


def test_import_only_matches_the_callers_courses(api, make_user, client_for):
    make_course(api, "CS201")
    other = client_for(make_user())
    report = upload(other, HEADER + "CS201,quiz,Quiz 1,18,20,2030-09-10,10\n").json()
    assert report["imported"] == 0 and report["refused"][0]["row"] == 2


def test_five_thousand_rows_in_one_request_under_fifty_queries(api, django_assert_max_num_queries):
    codes = [make_course(api, f"C{i}")["code"] for i in range(5)]
    lines = [HEADER]
    for i in range(5000):
        lines.append(f"{codes[i % 5]},quiz,Quiz {i},{i % 101},100,2030-{1 + i % 12:02d}-{1 + i % 28:02d},\n")
    text = "".join(lines)
    with django_assert_max_num_queries(49):
        res = upload(api, text)
    assert res.status_code == 200, res.content
    assert res.json()["imported"] == 5000 and res.json()["refused"] == []
    assert Result.objects.count() == 5000
    assert Result.objects.filter(percentage=100, grade="A").count() == len([i for i in range(5000) if i % 101 == 100])
