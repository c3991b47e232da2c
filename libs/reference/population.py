"""Deterministic demo and benchmark population shaped like Hải Phòng: candidates, employers and
vacancies in the platform's import formats (CSV or JSON lines).

    python -m reference.population candidates --count 1000 --seed 7 -o candidates.csv
    python -m reference.population vacancies --employers 100 --seed 7 -o vacancies.jsonl

Same arguments → same bytes. What the shapes rest on:
- names: Vietnamese surname frequencies (Nguyễn ≈ 38 %, Trần, Lê, Phạm …), gendered middle and
  given names, written with diacritics;
- ages 16–60, most between 20 and 40; trade level and experience grow with age;
- wards of post-2025 Hải Phòng weighted by a proxy, since the dataset has no population: the
  2025 reform sized units by population norms, larger for urban wards, so a phường weighs 1.6
  times a xã (special zones 0.3); 15 % of people give only a legacy address (district, often
  ward);
- occupations from the unit groups that employ most people in Hải Phòng (electronics assembly,
  garment and footwear, metalwork and welding, port and logistics, construction, drivers,
  services), skills drawn from those linked to the occupation; 20 % of skills are typed as
  free text, some without diacritics or with a typo;
- priority groups at plausible rates: poor 3 %, near-poor 4 %, recently escaped poverty 2 %,
  youth for half of those aged 16–30, demobilised soldiers 8 % of men aged 20–35, disabled 2 %,
  ethnic minority 1 %, released prisoners 0.3 %, rural workers for 60 % of commune residents.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import orjson
from stdnum.vn import mst

from reference.geography import HAI_PHONG, Geography, geography
from reference.levels import Qualification
from reference.occupations import Occupations, occupations
from reference.skills import SkillVocabulary, skill_vocabulary

SURNAMES = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 4), ("Vũ", 4), ("Phan", 3),
    ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.5), ("Ngô", 1.3), ("Dương", 1), ("Đào", 1), ("Đoàn", 1),
    ("Lương", 0.6), ("Mai", 0.6), ("Trịnh", 0.6), ("Lưu", 0.5), ("Tạ", 0.4), ("Cao", 0.4), ("Hà", 0.4),
)
MIDDLE = {
    "male": ("Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Xuân", "Công", "Tiến", "Mạnh", "Ngọc", "Duy"),
    "female": ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Mai", "Kim", "Bảo"),
}
GIVEN = {
    "male": ("Anh", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh",
             "Long", "Mạnh", "Nam", "Phong", "Phúc", "Quân", "Sơn", "Thắng", "Thành", "Tiến", "Trung",
             "Tuấn", "Tùng", "Việt", "Vinh", "Quyết", "Toàn", "Hưng"),
    "female": ("Anh", "Châu", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương",
               "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh",
               "Phương", "Quỳnh", "Thảo", "Thủy", "Trang", "Uyên", "Vân", "Yến"),
}
# Unit groups that employ most of Hải Phòng's workforce, with relative weights.
OCCUPATION_WEIGHTS = (
    ("8212", 14), ("9329", 6), ("8153", 8), ("8156", 2), ("7536", 2), ("7543", 3), ("7212", 5),
    ("7214", 3), ("7213", 1), ("7233", 3), ("7231", 2), ("7223", 2), ("9333", 5), ("8344", 3),
    ("4321", 3), ("8332", 4), ("8322", 3), ("7112", 3), ("7115", 2), ("7411", 3), ("7126", 1),
    ("9313", 4), ("5120", 3), ("5131", 3), ("5223", 5), ("5230", 2), ("4311", 3), ("4110", 3),
    ("2512", 2), ("3512", 1), ("6111", 3), ("6221", 2), ("6121", 1), ("5321", 1), ("5322", 1),
    ("3115", 2), ("2144", 1), ("5414", 2), ("9112", 2), ("7511", 1),
)
PHONE_PREFIXES = ("86", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39", "90",
                  "93", "70", "76", "77", "78", "79", "88", "91", "94", "81", "82", "83", "84", "85")
# VSIC section and the occupations an employer of that kind hires.
EMPLOYER_KINDS = (
    ("C", "Điện tử", ("8212", "7543", "9329", "3115", "4321"), 30, True),
    ("C", "May mặc", ("8153", "8156", "7543", "9329"), 15, True),
    ("C", "Giày da", ("7536", "8156", "9329", "7543"), 8, True),
    ("C", "Cơ khí", ("7212", "7214", "7213", "7223", "7233", "2144", "3115"), 12, False),
    ("C", "Đóng tàu", ("7212", "7214", "7213", "7233", "9329"), 6, False),
    ("H", "Cảng và Logistics", ("9333", "8344", "4321", "8332", "8322"), 12, False),
    ("F", "Xây dựng", ("7112", "7115", "7411", "7126", "9313"), 8, False),
    ("I", "Nhà hàng Khách sạn", ("5120", "5131", "9112", "5414"), 5, False),
    ("G", "Thương mại", ("5223", "5230", "4311", "4110", "8322"), 6, False),
    ("J", "Công nghệ", ("2512", "3512", "4110"), 3, False),
    ("A", "Thủy sản", ("6221", "6111", "7511"), 3, False),
    ("Q", "Chăm sóc sức khỏe", ("5321", "5322", "5414"), 2, False),
)
BRANDS = ("Hải Long", "Bạch Đằng", "Cát Bi", "Đình Vũ", "Tràng Duệ", "Hoa Phượng", "Đông Hải", "Tiên Lãng",
          "Vĩnh Bảo", "An Dương", "Kiến An", "Thủy Nguyên", "Sao Đỏ", "Hồng Bàng", "Lạch Tray", "Minh Phát",
          "Thành Công", "Phú Thái", "Nam Triệu", "Việt Hàn", "Việt Nhật", "Tân Cảng", "Hải Âu", "Sông Cấm")
FDI_BRANDS = ("Daewon", "Sunwoo", "Hanmi", "Kyoei", "Nishimura", "Everbright", "Fulltech", "Morita",
              "Seojin", "Shinsung", "Taiyo", "Greenpoint", "Yokohama", "Jinhua", "Kumho")


@dataclass(frozen=True)
class _Area:
    ward: str
    legacy_district: str
    legacy_ward: str | None


class PopulationGenerator:
    def __init__(
        self,
        seed: int,
        as_of: date,
        geo: Geography | None = None,
        occs: Occupations | None = None,
        vocab: SkillVocabulary | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self._tax_codes: set[str] = set()
        self.as_of = as_of
        self.geo = geo or geography()
        occs = occs or occupations()
        self.vocab = vocab or skill_vocabulary()
        wards = self.geo.wards_of_province(HAI_PHONG)
        self.wards = [w.code for w in wards]
        self.ward_weights = [
            1.6 if w.name.startswith("Phường") else 1.0 if w.name.startswith("Xã") else 0.3 for w in wards
        ]
        legacy_by_ward: dict[str, list[str]] = {}
        for conv in self._legacy_conversions():
            legacy_by_ward.setdefault(conv[1], []).append(conv[0])
        self.legacy_by_ward = {w: sorted(v) for w, v in legacy_by_ward.items()}
        self.occupations = [(c, w) for c, w in OCCUPATION_WEIGHTS if c in occs]
        self.skills_by_occupation: dict[str, list[str]] = {}
        for skill in self.vocab.skills.values():
            for occ in skill.occupations:
                self.skills_by_occupation.setdefault(occ, []).append(skill.code)
        self.general_skills = sorted(
            s.code for s in self.vocab.skills.values() if s.code[2:4] in ("15", "16", "17")
        ) or sorted(self.vocab.skills)

    def _legacy_conversions(self) -> Iterator[tuple[str, str]]:
        for legacy in self.geo._legacy_wards.values():  # noqa: SLF001 - same package
            if legacy.province_code in ("30", "31"):
                conv = self.geo.convert_legacy_ward(legacy.code)
                yield legacy.code, conv.default

    # ---- pieces ---------------------------------------------------------------------------
    def _choice(self, pairs):  # noqa: ANN001, ANN202
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights)[0]

    def _name(self, gender: str) -> str:
        surname = self._choice(SURNAMES)
        return f"{surname} {self.rng.choice(MIDDLE[gender])} {self.rng.choice(GIVEN[gender])}"

    def _birth_date(self) -> date:
        age = self._choice([(a, 3 if 20 <= a <= 40 else 1.5 if a < 50 else 0.8) for a in range(16, 61)])
        born = self.as_of.replace(year=self.as_of.year - age) - timedelta(days=self.rng.randrange(1, 365))
        return born

    def _phone(self) -> str:
        return "0" + self.rng.choice(PHONE_PREFIXES) + "".join(str(self.rng.randrange(10)) for _ in range(7))

    def _national_id(self, born: date, gender: str, province: str) -> str:
        century = (0 if born.year < 2000 else 2) + (1 if gender == "female" else 0)
        return f"0{province}{century}{born.year % 100:02d}" + "".join(
            str(self.rng.randrange(10)) for _ in range(6)
        )

    def _area_of_residence(self) -> _Area:
        ward = self.rng.choices(self.wards, self.ward_weights)[0]
        legacy = self.legacy_by_ward.get(ward)
        legacy_ward = self.rng.choice(legacy) if legacy else None
        district = (
            self.geo.legacy_ward(legacy_ward).district_code if legacy_ward else self.geo.ward(ward).legacy_district_code
        )
        return _Area(ward, district or "", legacy_ward)

    def _skill_text(self, code: str) -> str:
        """A skill as a person would type it: a code's label or alias, sometimes mangled."""
        skill = self.vocab.skills[code]
        text = self.rng.choice((skill.label_vi, *skill.aliases))
        roll = self.rng.random()
        if roll < 0.4:
            return _strip_diacritics(text)
        if roll < 0.6 and len(text) > 6:
            i = self.rng.randrange(1, len(text) - 2)
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # transposed letters
        return text

    # ---- records --------------------------------------------------------------------------
    def candidate(self, i: int) -> dict[str, object]:
        gender = self.rng.choice(("male", "female"))
        born = self._birth_date()
        age = self.as_of.year - born.year - ((self.as_of.month, self.as_of.day) < (born.month, born.day))
        area = self._area_of_residence()
        occupation = self._choice(self.occupations)
        pool = self.skills_by_occupation.get(occupation, [])
        skills = self.rng.sample(pool, k=min(len(pool), self.rng.randint(1, 4))) if pool else []
        if self.rng.random() < 0.3:
            skills.append(self.rng.choice(self.general_skills))
        skill_entries = [self._skill_text(s) if self.rng.random() < 0.2 else s for s in dict.fromkeys(skills)]
        experience = max(0, min(age - 18, int(self.rng.expovariate(1 / 5))))
        trade_level = min(7, max(1, 1 + experience // 3 + self.rng.choice((-1, 0, 0, 1))))
        qualification = self._choice(
            [(Qualification.NONE, 45), (Qualification.PRIMARY_VOCATIONAL, 20), (Qualification.INTERMEDIATE, 15),
             (Qualification.COLLEGE, 10), (Qualification.UNIVERSITY, 10)]
        )
        commune = self.geo.ward(area.ward).name.startswith("Xã")
        groups = [
            g
            for g, p in (
                ("poor_household", 0.03),
                ("near_poor_household", 0.04),
                ("recently_escaped_poverty", 0.02),
                ("youth", 0.5 if 16 <= age <= 30 else 0.0),
                ("demobilised_soldier", 0.08 if gender == "male" and 20 <= age <= 35 else 0.0),
                ("disabled", 0.02),
                ("ethnic_minority", 0.01),
                ("released_prisoner", 0.003),
                ("rural_worker", 0.6 if commune else 0.0),
            )
            if self.rng.random() < p
        ]
        if "poor_household" in groups and "near_poor_household" in groups:
            groups.remove("near_poor_household")
        legacy_only = self.rng.random() < 0.15
        province = self.geo.legacy_district(area.legacy_district).province_code if area.legacy_district else "31"
        name = self._name(gender)
        email = None
        if self.rng.random() < 0.35:
            email = f"{_strip_diacritics(name).lower().replace(' ', '.')}{i}@example.vn"
        return {
            "full_name": name,
            "date_of_birth": born.isoformat(),
            "gender": gender,
            "phone": self._phone(),
            "email": email or "",
            "national_id": self._national_id(born, gender, province),
            "ward_code": "" if legacy_only else area.ward,
            "legacy_district_code": area.legacy_district if legacy_only or self.rng.random() < 0.3 else "",
            "legacy_ward_code": (area.legacy_ward or "") if legacy_only and self.rng.random() < 0.7 else "",
            "occupations": occupation,
            "skills": ";".join(skill_entries),
            "trade_level": trade_level,
            "qualification": qualification.value,
            "experience_years": experience,
            "desired_wage_vnd": int(self.rng.randint(55, 250) * 100_000),
            "max_commute_km": self.rng.choice((5, 10, 10, 15, 20, 30)),
            "priority_groups": ";".join(groups),
            "consent_matching": "true" if self.rng.random() < 0.95 else "false",
            "consent_share_with_employers": "true" if self.rng.random() < 0.85 else "false",
            "consent_notifications": "true" if self.rng.random() < 0.9 else "false",
            "status": "seeking" if self.rng.random() < 0.9 else self.rng.choice(("employed", "inactive")),
        }

    def employer(self, i: int) -> dict[str, object]:
        section, sector, occs, _weight, fdi_likely = self._choice([(k, k[3]) for k in EMPLOYER_KINDS])
        fdi = fdi_likely and self.rng.random() < 0.7
        brand = self.rng.choice(FDI_BRANDS if fdi else BRANDS)
        form = "Công ty TNHH" if fdi or self.rng.random() < 0.5 else "Công ty Cổ phần"
        name = f"{form} {sector} {brand} {'Việt Nam' if fdi else 'Hải Phòng'} {i + 1}"
        tax = ""
        while not tax or tax in self._tax_codes:  # tax codes are unique
            base = "03" + "".join(str(self.rng.randrange(10)) for _ in range(7))  # 03 = Hải Phòng's tax office
            check = mst.calc_check_digit(base)
            if len(check) != 1:  # no check digit fits this serial: the tax office never issues it
                continue
            tax = base + check
            if self.rng.random() < 0.1:
                tax += f"-{self.rng.randint(1, 20):03d}"
        self._tax_codes.add(tax)
        return {
            "ref": f"E{i + 1:05d}",
            "name": name,
            "tax_code": tax,
            "ward_code": self.rng.choices(self.wards, self.ward_weights)[0],
            "industry": section,
            "fdi": fdi,
            "_occupations": occs,
        }

    def vacancies_of(self, employer: dict[str, object]) -> list[dict[str, object]]:
        out = []
        for _ in range(self.rng.randint(1, 5)):
            occupation = self.rng.choice([o for o in employer["_occupations"] if o in dict(self.occupations)] or ["9329"])  # type: ignore[union-attr]
            pool = self.skills_by_occupation.get(occupation, [])
            picked = self.rng.sample(pool, k=min(len(pool), self.rng.randint(1, 5))) if pool else []
            must = self.rng.randint(1, min(2, len(picked))) if picked else 0
            wage_min = self.rng.randint(50, 150) * 100_000
            out.append(
                {
                    "employer_tax_code": employer["tax_code"],
                    "title": _title(occupation),
                    "occupation": occupation,
                    "required_skills": ";".join(
                        f"{code}:{'must' if k < must else 'nice'}" for k, code in enumerate(picked)
                    ),
                    "min_trade_level": self.rng.choice((1, 1, 2, 2, 3, 4)),
                    "min_qualification": self._choice(
                        [(Qualification.NONE.value, 60), (Qualification.PRIMARY_VOCATIONAL.value, 15),
                         (Qualification.INTERMEDIATE.value, 15), (Qualification.COLLEGE.value, 10)]
                    ),
                    "openings": self.rng.choice((1, 2, 3, 5, 10, 20, 50)),
                    "wage_min_vnd": wage_min,
                    "wage_max_vnd": wage_min + self.rng.randint(0, 80) * 100_000,
                    "ward_code": employer["ward_code"],
                    "social_insurance": self.rng.random() < 0.85,
                    "shifts": self.rng.choice(("hành chính", "2 ca", "3 ca")),
                    "accepts_priority_groups": self.rng.random() < 0.7,
                    "deadline": (self.as_of + timedelta(days=self.rng.randint(10, 60))).isoformat(),
                }
            )
        return out


def candidate_event(record: dict[str, object], candidate_id: str, centre_id: str = "hp-demo") -> dict[str, object]:
    """The data of the ``candidate.registered`` event the candidates service would publish for a
    generated record (skills normalised, address located): lets matching be fed and measured at
    city scale without registering 200,000 people first."""
    vocab, geo = skill_vocabulary(), geography()
    skills: dict[str, dict[str, object]] = {}
    for entry in str(record["skills"]).split(";"):
        for match in vocab.normalise(entry) if entry.strip() else []:
            skills.setdefault(match.code or match.text, {"code": match.code, "text": match.text})
    place = geo.locate(ward_code=str(record["ward_code"]) or None,
                       legacy_ward_code=str(record["legacy_ward_code"]) or None,
                       legacy_district_code=str(record["legacy_district_code"]) or None)
    return {
        "candidate_id": candidate_id, "version": 1, "centre_id": centre_id, "status": record["status"],
        "occupations": [o for o in str(record["occupations"]).split(";") if o], "skills": list(skills.values()),
        "trade_level": int(record["trade_level"]), "qualification": record["qualification"],
        "experience_years": int(record["experience_years"]), "desired_wage_vnd": int(record["desired_wage_vnd"]),
        "max_commute_km": float(record["max_commute_km"]), "ward_code": place.ward_code,
        "legacy_district_code": place.legacy_district_code, "lat": place.lat, "lon": place.lon,
        "priority_groups": [g for g in str(record["priority_groups"]).split(";") if g],
        "consents": {"matching": record["consent_matching"] == "true"},
    }


def vacancy_event(record: dict[str, object], vacancy_id: str, employer_id: str, centre_id: str = "hp-demo") -> dict[str, object]:
    """The data of the ``vacancy.opened`` event the vacancies service would publish."""
    vocab, geo = skill_vocabulary(), geography()
    skills: dict[str, dict[str, object]] = {}
    for entry in str(record["required_skills"]).split(";"):
        name, _sep, kind = entry.rpartition(":")
        for match in vocab.normalise(name) if name.strip() else []:
            skills.setdefault(match.code or match.text, {"code": match.code, "text": match.text, "kind": kind})
    ward = geo.ward(str(record["ward_code"]))
    return {
        "vacancy_id": vacancy_id, "version": 1, "employer_id": employer_id, "centre_id": centre_id,
        "status": "open", "title": record["title"], "occupation": record["occupation"],
        "required_skills": list(skills.values()), "min_trade_level": int(record["min_trade_level"]),
        "min_qualification": record["min_qualification"], "openings": int(record["openings"]), "hires": 0,
        "wage_min_vnd": int(record["wage_min_vnd"]), "wage_max_vnd": int(record["wage_max_vnd"]),
        "ward_code": ward.code, "legacy_district_code": ward.legacy_district_code, "lat": ward.lat, "lon": ward.lon,
        "social_insurance": bool(record["social_insurance"]), "shifts": record["shifts"],
        "accepts_priority_groups": bool(record["accepts_priority_groups"]), "deadline": record["deadline"],
    }



def population_events(candidates: int, vacancies: int, seed: int = 2026, as_of: date = date(2026, 12, 1),
                      centres: int = 7) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The ``candidate.registered`` data of ``candidates`` generated people and the
    ``vacancy.opened`` data of ``vacancies`` generated vacancies, spread over ``centres`` centres:
    what matching is fed from, without the services that would publish it."""
    gen = PopulationGenerator(seed, as_of)
    people = []
    for i in range(candidates):
        record = {k: str(v).lower() if isinstance(v, bool) else ("" if v is None else str(v))
                  for k, v in gen.candidate(i).items()}  # as the CSV import reads it
        people.append(candidate_event(record, f"c{i:07d}", centre_id=f"centre-{i % centres}"))
    jobs: list[dict[str, object]] = []
    e = 0
    while len(jobs) < vacancies:
        employer = gen.employer(e)
        for k, record in enumerate(gen.vacancies_of(employer)):
            jobs.append(vacancy_event(record, f"v{e:06d}-{k}", str(employer["ref"]), centre_id=f"centre-{e % centres}"))
        e += 1
    return people, jobs[:vacancies]

def _title(occupation: str) -> str:
    return occupations().get(occupation).label_vi


def _strip_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


CANDIDATE_COLUMNS = (
    "full_name", "date_of_birth", "gender", "phone", "email", "national_id", "ward_code",
    "legacy_district_code", "legacy_ward_code", "occupations", "skills", "trade_level", "qualification",
    "experience_years", "desired_wage_vnd", "max_commute_km", "priority_groups", "consent_matching",
    "consent_share_with_employers", "consent_notifications", "status",
)


def write_records(records: Iterator[dict[str, object]], fmt: str, out: io.TextIOBase, columns=None) -> int:  # noqa: ANN001
    """Write records as CSV (header row, UTF-8) or JSON lines; returns how many."""
    n = 0
    if fmt == "csv":
        writer = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(columns or record), lineterminator="\n")
                writer.writeheader()
            writer.writerow({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in record.items()})
            n += 1
    else:
        for record in records:
            out.write(orjson.dumps(record).decode() + "\n")
            n += 1
    return n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="reference.population", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("candidates", "employers", "vacancies"))
    parser.add_argument("--count", type=int, default=1000, help="candidates, or employers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 12, 1),
                        help="the date ages and deadlines are computed from (fixed, for determinism)")
    parser.add_argument("--format", choices=("csv", "jsonl"), default=None)
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    fmt = args.format or ("jsonl" if args.output.endswith(".jsonl") else "csv")
    gen = PopulationGenerator(args.seed, args.as_of)
    if args.what == "candidates":
        records = (gen.candidate(i) for i in range(args.count))
        columns = CANDIDATE_COLUMNS
    else:
        employers = [gen.employer(i) for i in range(args.count)]
        if args.what == "employers":
            records = ({k: v for k, v in e.items() if not k.startswith("_")} for e in employers)
        else:
            records = (v for e in employers for v in gen.vacancies_of(e))
        columns = None
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        n = write_records(records, fmt, out, columns)
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"wrote {n} {args.what}", file=sys.stderr)


if __name__ == "__main__":
    main()
