"""SPSS .sav, Stata .dta and responses.R downloads: read back with pyreadstat and pandas."""

from __future__ import annotations

import hashlib
import math
import re
import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from evalsvc import commands
from evalsvc.app import create_app, load_courses
from evalsvc.exports import labelled, labelled_tables, r_script
from evalsvc.storage.records import ResponseRow
from tests.dataio_helpers import TRIO, store_trio_answers, trio_settings

pytestmark = pytest.mark.anyio
BASE = f"/api/v1/courses/{TRIO}"


@pytest.fixture
def trio(settings):
    settings = trio_settings(settings)
    store_trio_answers(settings)
    _, evaluator = commands.create_token(settings, "evaluator", "eva")
    _, analyst = commands.create_token(settings, "analyst", "ana")
    return settings, {"evaluator": evaluator, "analyst": analyst}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read(content: bytes, suffix: str) -> tuple[pd.DataFrame, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data.{suffix}"
        path.write_bytes(content)
        reader = pyreadstat.read_sav if suffix == "sav" else pyreadstat.read_dta
        return reader(str(path), user_missing=suffix == "sav")


def read_with_pandas(content: bytes, suffix: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data.{suffix}"
        path.write_bytes(content)
        if suffix == "sav":
            return pd.read_spss(path)
        return pd.read_stata(path)


async def get_files(settings, token: str, names: list[str], lang: str) -> dict[str, bytes]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        out = {}
        for name in names:
            response = await client.get(f"{BASE}/{name}?lang={lang}", headers=bearer(token))
            assert response.status_code == 200, (name, response.text)
            assert (
                f'filename="trio-{name.split(".")[0]}-{lang}.'
                in (response.headers["content-disposition"])
            )
            out[name] = response.content
        return out


@pytest.mark.parametrize("suffix", ["sav", "dta"])
async def test_responses_read_back_with_kazakh_labels_and_codes(trio, suffix) -> None:
    settings, tokens = trio
    name = f"responses.{suffix}"
    content = (await get_files(settings, tokens["analyst"], [name], "kk"))[name]
    frame, meta = read(content, suffix)

    assert list(frame.columns) == [
        "participant", "agency", "submitted_agency", "agency_mismatch", "phase", "lang",
        "received_at", "role", "years", "sa_detect", "sa_trace", "k1", "k2",
        "k3_a", "k3_b", "k3_c", "k3_dont_know", "fb_useful", "fb_best", "fb_more",
    ]  # fmt: skip
    labels = meta.column_names_to_labels
    assert labels["k1"] == "Жасау кезінде қандай таңбалау қажет?"
    assert labels["k3_c"] == "Қандай жазбалар қадағалауға көмектеседі?: Импорт лицензиялары"
    assert labels["agency"] == "Ведомство"
    value_labels = meta.variable_value_labels
    assert value_labels["k1"] == {1: "Иесінің аты", 2: "Өндіруші, ел және сериялық нөмір",
                                  99: "Білмеймін"}  # fmt: skip
    assert value_labels["k2"] == {1: "Дұрыс", 2: "Дұрыс емес"}
    assert value_labels["agency"] == {1: "Шекара қызметі", 2: "Кеден"}
    assert value_labels["phase"] == {1: "Курс алдында", 2: "Курстан кейін", 3: "Үш айдан кейін"}
    assert value_labels["fb_useful"] == {
        1: "Келіспеймін",
        2: "Келіспеуге бейіммін",
        3: "Келісуге бейіммін",
        4: "Келісемін",
        99: "Қатысы жоқ",
    }
    assert value_labels["k3_a"] == {0: "таңдалмады", 1: "таңдалды"}

    rows = {(int(r.participant), int(r.phase)): r for r in frame.itertuples()}
    assert len(rows) == 5
    first_pre, first_post, first_follow = rows[1, 1], rows[1, 2], rows[1, 3]
    assert (first_pre.k1, first_pre.k2, first_pre.role, first_pre.years) == (2, 1, 1, 4)
    assert (first_pre.k3_a, first_pre.k3_b, first_pre.k3_c, first_pre.k3_dont_know) == (1, 0, 0, 0)
    assert (first_post.k3_a, first_post.k3_c, first_post.fb_useful) == (1, 1, 1)
    assert first_post.fb_best == "Практика — өте жақсы"
    assert (first_follow.k1, first_follow.k3_dont_know, first_follow.k3_a) == (99, 1, 0)
    assert math.isnan(first_follow.k2) and math.isnan(first_pre.fb_useful)
    second_pre = rows[2, 1]
    assert (second_pre.k3_a, second_pre.k3_b) == (0, 1)
    assert math.isnan(second_pre.sa_trace) and math.isnan(second_pre.k2)  # unanswered
    assert (second_pre.agency, second_pre.lang) == (2, "ru")
    assert rows[2, 2].fb_more == "Больше практики"

    with_pandas = read_with_pandas(content, suffix)
    assert len(with_pandas) == 5
    for code, shown in zip(frame["k1"], with_pandas["k1"], strict=True):
        assert shown == value_labels["k1"][code]
    assert list(with_pandas["fb_best"]) == list(frame["fb_best"])


@pytest.mark.parametrize("suffix", ["sav", "dta"])
async def test_scores_are_wide_per_phase_measure_and_skill_in_russian(trio, suffix) -> None:
    settings, tokens = trio
    name = f"scores.{suffix}"
    content = (await get_files(settings, tokens["analyst"], [name], "ru"))[name]
    frame, meta = read(content, suffix)

    columns = ["participant", "agency"] + [
        f"{measure}_{skill}_{phase}"
        for phase in ("pre", "post", "follow_up")
        for measure in ("knowledge", "confidence", "dont_know")
        for skill in ("detection", "tracing", "total")
    ]
    assert list(frame.columns) == columns
    labels = meta.column_names_to_labels
    assert labels["knowledge_total_follow_up"] == "Знания (% баллов): все навыки, Через три месяца"
    assert labels["confidence_detection_pre"] == (
        "Уверенность (средняя самооценка): Выявление, До курса"
    )
    first = frame.iloc[0]
    # k1 right (2 of 3 detection points), k2 wrong; k3 {a} of key {a, c}: 1 x 1/2 point
    assert first["knowledge_detection_pre"] == pytest.approx(200 / 3)
    assert first["knowledge_tracing_pre"] == 50.0
    assert first["knowledge_total_pre"] == 62.5
    assert first["knowledge_total_post"] == 100.0
    assert first["knowledge_total_follow_up"] == 0.0  # "I don't know" scores 0
    assert first["confidence_total_post"] == 4.5
    assert math.isnan(first["confidence_tracing_pre"])  # not answered
    second = frame.iloc[1]
    assert second["agency"] == 2 and math.isnan(second["knowledge_total_follow_up"])
    assert meta.variable_value_labels["agency"] == {1: "Пограничная служба", 2: "Таможня"}


async def test_only_analysts_get_participant_level_files(trio) -> None:
    settings, tokens = trio
    names = ["responses.sav", "responses.dta", "scores.sav", "scores.dta", "responses.R"]
    async with AsyncTestClient(app=create_app(settings)) as client:
        for name in names:
            assert (await client.get(f"{BASE}/{name}")).status_code == 401
            forbidden = await client.get(f"{BASE}/{name}", headers=bearer(tokens["evaluator"]))
            assert forbidden.status_code == 403, name
            assert forbidden.json()["error"] == "analyst_only"
            allowed = await client.get(f"{BASE}/{name}", headers=bearer(tokens["analyst"]))
            assert allowed.status_code == 200, name
            assert "no-store" in allowed.headers["cache-control"]
        unknown = await client.get(f"{BASE}/scores.R", headers=bearer(tokens["analyst"]))
        assert unknown.status_code == 404


async def test_r_script_labels_the_csv_columns_as_the_sav_does(trio) -> None:
    settings, tokens = trio
    async with AsyncTestClient(app=create_app(settings)) as client:
        headers = bearer(tokens["analyst"])
        script = (await client.get(f"{BASE}/responses.R?lang=kk", headers=headers)).text
        csv_text = (await client.get(f"{BASE}/responses.csv", headers=headers)).text
    assert script.isascii()
    assert 'read.csv("trio-responses.csv", fileEncoding = "UTF-8-BOM"' in script
    csv_columns = csv_text.lstrip("\ufeff").splitlines()[0].split(",")
    read_columns = set(re.findall(r'<- set_label\([^\n]*?responses\[\["([^"]+)"\]\]', script))
    assert read_columns <= set(csv_columns)
    k1 = re.search(
        r'responses\[\["k1"\]\] <- set_label\(factor\(responses\[\["k1"\]\],\n'
        r'  levels = (c\([^)]*\)),\n  labels = (c\([^)]*\))\),\n  ("[^"]*")\)',
        script,
    )
    assert k1 is not None
    levels, texts, label = (decode_r(part) for part in k1.groups())
    assert levels == ["a", "b", "dont_know"]
    assert texts == ["Иесінің аты", "Өндіруші, ел және сериялық нөмір", "Білмеймін"]
    assert label == ["Жасау кезінде қандай таңбалау қажет?"]
    assert 'responses[["k3_c"]] <- set_label(factor(has_option(responses[["k3"]], "c")' in script
    # "does not apply" is no level of the likert factor: it becomes NA, as in SPSS
    useful = script[script.index('responses[["fb_useful"]] <-') :].split("\n")[1]
    assert useful == '  levels = c("1", "2", "3", "4"),'


def decode_r(vector: str) -> list[str]:
    """The strings of an R literal c("...", ...) or "..." (our escapes only)."""
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', vector)
    return [
        re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), s).replace('\\"', '"')
        for s in strings
    ]


def test_does_not_apply_is_a_user_missing_code(settings) -> None:
    course = load_courses(trio_settings(settings))[TRIO]
    row = ResponseRow(7, "customs", "customs", 0, "post", "en", "2024-05-07T10:00:00.000Z",
                      '{"fb_useful": "not_applicable", "sa-detect": 2}')  # fmt: skip
    table = labelled_tables.responses_table(course, [row], "en")
    frame, meta = read(labelled.sav_bytes(table), "sav")
    assert frame["fb_useful"].iloc[0] == 99
    assert meta.missing_ranges["fb_useful"] == [{"lo": 99.0, "hi": 99.0}]
    assert meta.variable_value_labels["fb_useful"][99] == "Does not apply"


def test_long_labels_are_cut_at_a_letter_not_a_byte() -> None:
    long = "Қазақстан " * 30
    variables = (
        labelled.Variable(name="x", label=long, value_labels={1: long}),
        labelled.Variable(name="t", label="Мәтін", kind="string"),
    )
    table = labelled.LabelledTable("Кесте", variables, [(1, "ә"), (None, None)])
    sav, sav_meta = read(labelled.sav_bytes(table), "sav")
    dta, dta_meta = read(labelled.dta_bytes(table), "dta")
    assert len(dta_meta.column_names_to_labels["x"]) == 80
    assert dta_meta.column_names_to_labels["x"].endswith("…")
    assert len(sav_meta.variable_value_labels["x"][1].encode()) <= 120
    assert sav_meta.variable_value_labels["x"][1].startswith("Қазақстан Қазақстан")
    assert list(sav["t"]) == ["ә", ""] and list(dta["t"]) == ["ә", ""]


@given(st.lists(st.text(alphabet="abcABC_-09.ЖжЯ ", min_size=1, max_size=60), max_size=30))
def test_variable_names_are_valid_distinct_and_stable(wanted) -> None:
    names = labelled.variable_names(wanted)
    assert names == labelled.variable_names(wanted)
    assert len({n.lower() for n in names}) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", name), name
        assert name.lower() not in labelled.RESERVED


def test_variable_name_rule_examples() -> None:
    long = "a_very_long_item_identifier_of_forty_chars"
    digest = hashlib.sha1(long.encode(), usedforsecurity=False).hexdigest()[:6]
    assert labelled.variable_names(["k-01", "1a", "with", "K_01", long, long]) == [
        "k_01", "v1a", "with_", "K_01_2",
        f"a_very_long_item_identifi_{digest}", f"a_very_long_item_identifi_{digest[:4]}_2",
    ]  # fmt: skip


def test_r_strings_are_ascii_escapes() -> None:
    assert r_script.r_string('Қ "x" \\ 😀') == '"\\u049a \\"x\\" \\\\ \\U{0001f600}"'
