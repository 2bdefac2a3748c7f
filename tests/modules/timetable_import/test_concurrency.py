"""Two confirms at once on PostgreSQL: one creates the classes, the other is 409; nothing doubles."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.conftest import postgres_only
from tests.modules.timetable_import import corpus

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_parallel_confirms_create_the_classes_once(student, client_for, run_upload):
    api = client_for(student)
    import_id = run_upload(api, corpus.pdf_text_layer()).json()["id"]
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def confirm() -> None:
        try:
            client = client_for(student)
            barrier.wait()
            answers.append(client.post(f"/timetable-import/imports/{import_id}/confirm", {}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 409, 409, 409]
    classes = [c for tt in api.get("/tracker/timetables").json() for c in tt["classes"]]
    assert len(classes) == 5
