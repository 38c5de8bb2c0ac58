"""Several stateless instances on one database: what one instance stores, the other
reports at once, and a login made on one is valid on the other, until it logs out.

Two real `evalsvc serve` processes on the same database, as behind a load balancer.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import run_cli
from tests.test_durability import submission as pre_submission
from tests.test_evaluator import csrf_of

pytestmark = pytest.mark.backends


def pre_count(server_url: str, token: str) -> int:
    """How many answered the pre questionnaire, as the instance's report says."""
    response = httpx.get(
        f"{server_url}/api/v1/courses/tiny/attrition",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    rows = [
        row
        for row in response.json()["phase_counts"]
        if (row["breakdown"], row["kind"], row["phases"]) == ("all", "phase", "pre")
    ]
    assert len(rows) == 1, rows
    return rows[0]["n"]


def test_a_report_on_one_instance_follows_what_the_other_stores(
    settings, issue, server_factory
) -> None:
    codes = issue(count=8, agency="border")
    made = run_cli(settings, "token", "create", "--role", "evaluator", "--name", "e")
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    first, second = server_factory(settings).start(), server_factory(settings).start()

    def store(code: str) -> None:
        response = httpx.post(
            f"{first.url}/api/v1/courses/tiny/responses", json=pre_submission(code), timeout=30
        )
        assert response.status_code == 201, response.text

    for code in codes[:4]:
        store(code)
    assert pre_count(second.url, token) == 4  # the second instance's report, now cached
    for code in codes[4:]:
        store(code)
    assert pre_count(second.url, token) == 8  # its cache followed the first's writes


def test_a_login_on_one_instance_holds_on_the_other_until_it_logs_out(
    settings, server_factory
) -> None:
    made = run_cli(settings, "token", "create", "--role", "evaluator", "--name", "e")
    token = made.stdout.splitlines()[-1]
    first, second = server_factory(settings).start(), server_factory(settings).start()
    report = "/courses/tiny/report"
    with httpx.Client(base_url=first.url, timeout=30) as on_first:
        page = on_first.get("/login")
        logged_in = on_first.post(
            "/login", data={"token": token, "_csrf_token": csrf_of(page.text)}
        )
        assert logged_in.status_code == 303, logged_in.text
        cookies = dict(on_first.cookies)
    assert "evalsvc_session" in cookies
    with httpx.Client(base_url=second.url, cookies=cookies, timeout=30) as on_second:
        assert on_second.get(report).status_code == 200
        assert on_second.get("/logout").status_code == 303  # as the report links it
    with httpx.Client(base_url=first.url, cookies=cookies, timeout=30) as on_first_again:
        after = on_first_again.get(report)
        assert after.status_code == 303 and after.headers["location"] == "/login"
