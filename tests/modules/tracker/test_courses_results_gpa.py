from __future__ import annotations

import pytest

from core.models import Role
from tests.modules.tracker.conftest import add_result, make_course

pytestmark = pytest.mark.django_db


def test_course_crud_and_statistics(api):
    course = make_course(api, "CS201", name="Data Structures", credits=4, instructor="Dr. Johnson", color="orange")
    assert course["credits"] == 4 and course["is_active"] is True
    add_result(api, course["id"], 80)
    add_result(api, course["id"], 90)
    res = api.post(
        "/tracker/sessions", {"course_id": course["id"], "started_at": "2030-01-01T10:00:00Z", "ended_at": "2030-01-01T11:30:00Z"}
    )
    assert res.status_code == 422  # a logged session cannot end in the future
    res = api.post(
        "/tracker/sessions", {"course_id": course["id"], "started_at": "2024-01-01T10:00:00Z", "ended_at": "2024-01-01T11:30:00Z"}
    )
    assert res.status_code == 201, res.content
    detail = api.get(f"/tracker/courses/{course['id']}").json()
    assert detail["statistics"] == {"total_study_hours": 1.5, "average_grade": 85.0, "grade": "B", "results_count": 2}

    res = api.patch(f"/tracker/courses/{course['id']}", {"name": "Advanced DS", "credits": 5})
    assert res.status_code == 200 and res.json()["name"] == "Advanced DS"
    assert api.delete(f"/tracker/courses/{course['id']}").status_code == 204
    assert api.get(f"/tracker/courses/{course['id']}").status_code == 404
    assert api.get("/tracker/courses").json()["total"] == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"credits": 7}, "credits"),
        ({"credits": 0}, "credits"),
        ({"code": ""}, "code"),
        ({"semester": "x" * 101}, "semester"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_course_validation(api, body, field):
    res = api.post("/tracker/courses", {"name": "N", "code": "C1", "semester": "S", **body})
    assert res.status_code == 422
    assert any(e["field"] == field for e in res.json()["errors"]), res.json()


def test_another_users_objects_answer_404(api, make_user, client_for):
    course = make_course(api)
    result = add_result(api, course["id"], 50)
    other = client_for(make_user(Role.TUTOR))  # any authenticated user may keep a tracker
    assert other.get(f"/tracker/courses/{course['id']}").status_code == 404
    assert other.patch(f"/tracker/courses/{course['id']}", {"name": "mine"}).status_code == 404
    assert other.delete(f"/tracker/results/{result['id']}").status_code == 404
    res = other.post(
        "/tracker/results", {"course_id": course["id"], "assessment_type": "quiz", "score": "1", "date": "2030-01-01"}
    )
    assert res.status_code == 404
    assert other.get("/tracker/results").json()["total"] == 0
    assert api.get(f"/tracker/results/{result['id']}").status_code == 200


def test_requires_authentication(anon):
    assert anon.get("/tracker/courses").status_code == 401


@pytest.mark.parametrize("score, max_score, field", [("101", "100", "score"), ("-1", "100", "score"), ("5", "0", "max_score")])
def test_result_score_validation(api, score, max_score, field):
    course = make_course(api)
    res = api.post(
        "/tracker/results",
        {"course_id": course["id"], "assessment_type": "quiz", "score": score, "max_score": max_score, "date": "2030-01-01"},
    )
    assert res.status_code == 422, res.content
    assert any(e["field"] == field for e in res.json()["errors"])
    assert api.get("/tracker/results").json()["total"] == 0


def test_result_patch_keeps_score_within_max(api):
    course = make_course(api)
    result = add_result(api, course["id"], 40, 50)
    assert result["percentage"] == 80.0 and result["grade"] == "B"
    assert api.patch(f"/tracker/results/{result['id']}", {"max_score": "30"}).status_code == 422
    res = api.patch(f"/tracker/results/{result['id']}", {"score": "45"})
    assert res.json()["percentage"] == 90.0 and res.json()["grade"] == "A"


def test_grade_boundary_between_b_and_a(api):
    course = make_course(api)
    just_below = add_result(api, course["id"], "179.98", "200")  # 89.99 %
    exactly = add_result(api, course["id"], "90.00", "100")
    assert (just_below["percentage"], just_below["grade"]) == (89.99, "B")
    assert (exactly["percentage"], exactly["grade"]) == (90.0, "A")
    for score, letter in [("79.99", "C"), ("80", "B"), ("59.99", "F"), ("60", "D"), ("0", "F"), ("100", "A")]:
        assert add_result(api, course["id"], score)["grade"] == letter, score


def test_gpa_worked_example(api):
    """Fall 2030: CS (4 cr) midterm 45/50 w40 + final 85/100 w60 = 87.00 -> B 3.0; MA (3 cr) 93 -> A 4.0.
    GPA = (3.0*4 + 4.0*3) / 7 = 3.43. Spring 2031: NET (3 cr) 72 -> C 2.0; ART (2 cr) 95 -> A 4.0:
    (6 + 8) / 5 = 2.80. Cumulative: (12 + 12 + 6 + 8) / 12 = 3.17; 3.43 -> 2.80 is declining."""
    cs = make_course(api, "CS", credits=4)
    ma = make_course(api, "MA", credits=3)
    net = make_course(api, "NET", credits=3, semester="Spring 2031")
    art = make_course(api, "ART", credits=2, semester="Spring 2031")
    add_result(api, cs["id"], 45, 50, weight="40", assessment_type="midterm", date="2030-10-10")
    add_result(api, cs["id"], 85, 100, weight="60", assessment_type="final", date="2030-12-15")
    add_result(api, ma["id"], 93, date="2030-12-10")
    add_result(api, net["id"], 72, date="2031-04-01")
    add_result(api, art["id"], 95, date="2031-04-02")
    gpa = api.get("/tracker/gpa").json()
    fall, spring = gpa["semesters"]
    assert fall["semester"] == "Fall 2030" and fall["gpa"] == 3.43 and fall["credits"] == 7
    assert {c["code"]: (c["average"], c["grade"]) for c in fall["courses"]} == {"CS": (87.0, "B"), "MA": (93.0, "A")}
    assert spring["gpa"] == 2.8
    assert gpa["cumulative"] == 3.17
    assert gpa["current"] == 2.8
    assert gpa["trend"] == "declining"
    dash = api.get("/tracker/dashboard").json()
    assert dash["gpa"] == {"current": 2.8, "cumulative": 3.17, "trend": "declining"}


def test_gpa_trend_improving_over_three_semesters(api):
    for i, (sem, score) in enumerate([("S1", 65), ("S2", 75), ("S3", 95)]):
        c = make_course(api, f"C{i}", semester=sem)
        add_result(api, c["id"], score, date=f"203{i}-05-01")
    gpa = api.get("/tracker/gpa").json()
    assert [s["gpa"] for s in gpa["semesters"]] == [1.0, 2.0, 4.0]
    assert gpa["trend"] == "improving"


def test_needed_score_for_target(api):
    """Midterm 70 % at weight 40: 28 points earned. A B (80 %) needs (80 - 28) / 60 = 86.67 % on the rest."""
    course = make_course(api)
    add_result(api, course["id"], 70, weight="40", assessment_type="midterm")
    res = api.get(f"/tracker/courses/{course['id']}/standing", {"target": "B"}).json()
    assert res["average"] == 70.0 and res["grade"] == "C"
    assert res["target"]["needed_percentage"] == 86.67
    assert res["target"]["remaining_weight"] == 60.0
    assert res["target"]["achievable"] is True
    res = api.get(f"/tracker/courses/{course['id']}/standing", {"target": "95"}).json()
    assert res["target"]["achievable"] is False  # (95 - 28) / 0.6 = 111.67 %
    assert res["target"]["needed_percentage"] == 111.67
    assert api.get(f"/tracker/courses/{course['id']}/standing", {"target": "Z+"}).status_code == 422


def test_custom_grading_scale_regrades_results(api):
    course = make_course(api)
    result = add_result(api, course["id"], 86)
    assert result["grade"] == "B"
    scale = [
        {"min": "85", "letter": "A", "points": "4.0"},
        {"min": "70", "letter": "B", "points": "3.0"},
        {"min": "0", "letter": "F", "points": "0"},
    ]
    res = api.put("/tracker/grading-scale", {"bands": scale})
    assert res.status_code == 200 and res.json()["is_default"] is False
    assert api.get(f"/tracker/results/{result['id']}").json()["grade"] == "A"
    assert api.get("/tracker/gpa").json()["cumulative"] == 4.0
    bad = api.put("/tracker/grading-scale", {"bands": [{"min": "50", "letter": "P", "points": "1"}]})
    assert bad.status_code == 422  # no band starts at 0
    assert api.put("/tracker/grading-scale", {"bands": None}).json()["is_default"] is True
    assert api.get(f"/tracker/results/{result['id']}").json()["grade"] == "B"


def test_results_filters(api):
    a = make_course(api, "A")
    b = make_course(api, "B", semester="Spring 2031")
    add_result(api, a["id"], 50, assessment_type="quiz", date="2030-09-01")
    add_result(api, a["id"], 60, assessment_type="final", date="2030-12-01")
    add_result(api, b["id"], 70, assessment_type="final", date="2031-03-01")
    assert api.get("/tracker/results", {"course_id": a["id"]}).json()["total"] == 2
    assert api.get("/tracker/results", {"assessment_type": "final"}).json()["total"] == 2
    assert api.get("/tracker/results", {"semester": "Spring 2031"}).json()["total"] == 1
    assert api.get("/tracker/results", {"from_date": "2030-10-01", "to_date": "2030-12-31"}).json()["total"] == 1


def test_preferences_and_onboarding(api, student):
    prefs = api.get("/tracker/preferences").json()
    assert prefs["morning_email_time"] == "07:00:00" and prefs["effective_time_zone"] == "UTC"
    assert prefs["onboarding_step"] == "profile"
    res = api.patch("/tracker/preferences", {"time_zone": "Asia/Tokyo", "weekly_report_day": "friday", "email_enabled": False})
    assert res.status_code == 200 and res.json()["effective_time_zone"] == "Asia/Tokyo"
    assert api.patch("/tracker/preferences", {"time_zone": "Mars/Base"}).status_code == 422
    assert api.patch("/tracker/preferences", {"weekly_report_day": "someday"}).status_code == 422
    cleared = api.patch("/tracker/preferences", {"time_zone": None, "email_enabled": None}).json()
    assert cleared["effective_time_zone"] == "UTC" and cleared["time_zone"] == "" and cleared["email_enabled"] is False
    make_course(api)
    assert api.get("/tracker/onboarding").json()["step"] == "courses"
    assert api.put("/tracker/onboarding", {"step": "done"}).json()["completed"] is True
