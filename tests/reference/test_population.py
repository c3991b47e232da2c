import csv
import io
from collections import Counter
from datetime import date

import orjson
import pytest

from reference.geography import geography
from reference.population import CANDIDATE_COLUMNS, PopulationGenerator, main, write_records
from reference.skills import skill_vocabulary

AS_OF = date(2026, 12, 1)


def age(born: date) -> int:
    return AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))


def generate(seed: int, n: int) -> str:
    gen = PopulationGenerator(seed, AS_OF)
    out = io.StringIO()
    write_records((gen.candidate(i) for i in range(n)), "csv", out, CANDIDATE_COLUMNS)
    return out.getvalue()


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    assert generate(7, 300) == generate(7, 300)
    assert generate(7, 300) != generate(8, 300)


def test_cli_writes_identical_files_for_the_same_seed(tmp_path) -> None:  # noqa: ANN001
    for name in ("a.csv", "b.csv"):
        main(["candidates", "--count", "200", "--seed", "3", "-o", str(tmp_path / name)])
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    main(["vacancies", "--count", "20", "--seed", "3", "-o", str(tmp_path / "v.jsonl")])
    vacancies = [orjson.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert 20 <= len(vacancies) <= 100


@pytest.fixture(scope="module")
def people() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(generate(11, 4000))))


def test_candidates_are_shaped_like_hai_phong(people: list[dict[str, str]]) -> None:
    geo = geography()
    n = len(people)
    ages = [age(date.fromisoformat(p["date_of_birth"])) for p in people]
    assert min(ages) >= 15 and max(ages) <= 60
    assert 0.45 < sum(20 <= a <= 40 for a in ages) / n < 0.75
    surnames = Counter(p["full_name"].split()[0] for p in people)
    assert 0.30 < surnames["Nguyễn"] / n < 0.46
    legacy_only = [p for p in people if not p["ward_code"]]
    assert 0.11 < len(legacy_only) / n < 0.19
    for p in people:
        if p["ward_code"]:
            assert geo.ward(p["ward_code"]).province_code == "31"
        else:
            assert geo.legacy_district(p["legacy_district_code"]).province_code in ("30", "31")
        nid, born = p["national_id"], date.fromisoformat(p["date_of_birth"])
        assert len(nid) == 12 and nid[:3] in ("030", "031") and nid[4:6] == f"{born.year % 100:02d}"
        assert int(nid[3]) % 2 == (1 if p["gender"] == "female" else 0)
        assert len(p["phone"]) == 10 and p["phone"].startswith("0")
        assert 1 <= int(p["trade_level"]) <= 7


def test_priority_groups_at_plausible_rates(people: list[dict[str, str]]) -> None:
    n = len(people)
    groups = Counter(g for p in people for g in p["priority_groups"].split(";") if g)
    assert 0.015 < groups["poor_household"] / n < 0.05
    assert 0.02 < groups["near_poor_household"] / n < 0.06
    assert 0.10 < groups["youth"] / n < 0.30
    assert groups["released_prisoner"] / n < 0.01


def test_some_skills_are_free_text_and_most_still_normalise(people: list[dict[str, str]]) -> None:
    vocab = skill_vocabulary()
    entries = [s for p in people for s in p["skills"].split(";") if s]
    typed = [s for s in entries if not s.startswith("SK")]
    assert 0.12 < len(typed) / len(entries) < 0.28
    coded = sum(1 for s in typed if any(m.code for m in vocab.normalise(s)))
    assert coded / len(typed) > 0.8
