"""Administrative geography of Vietnam before and after the 1 July 2025 reform.

Source: the ``vietnamadminunits`` package. Its SQLite dataset has ``admin_units`` (post-2025:
34 provinces, 3,321 wards and communes, with coordinates) and ``admin_units_legacy`` (pre-2025:
63 provinces, 696 districts, 10,035 wards, with coordinates); its ``converter_2025.json`` maps
every legacy ward to the current ward(s) it became part of. Everything is loaded once into NumPy
arrays and dictionaries; distances are vectorised haversines.

Code spaces overlap (a current ward may reuse the code of one of the legacy wards merged into
it), so the API always says which layout a code belongs to.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from reference.text import fold

EARTH_RADIUS_KM = 6371.0088
HAI_PHONG = "31"


class UnknownArea(ValueError):
    """A code that names no unit of the layout it was given for."""

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"{code!r} is not a known {kind} code")
        self.kind = kind
        self.code = code

    @property
    def field(self) -> str:
        """The code of an address that is wrong: ``ward_code``, ``legacy_ward_code`` or
        ``legacy_district_code``."""
        if "legacy ward" in self.kind or self.kind.startswith("ward of legacy"):
            return "legacy_ward_code"
        return "legacy_district_code" if "legacy district" in self.kind else "ward_code"


@dataclass(frozen=True)
class Ward:
    """A post-2025 ward (phường), commune (xã) or special zone (đặc khu)."""

    code: str
    name: str
    province_code: str
    province_name: str
    lat: float
    lon: float
    legacy_district_code: str | None  # where most of its legacy wards were; the "district" tier


@dataclass(frozen=True)
class LegacyUnit:
    """A pre-2025 district or ward."""

    code: str
    name: str
    level: str  # "district" | "ward"
    province_code: str
    province_name: str
    district_code: str
    district_name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Conversion:
    """Current wards a legacy unit became part of; ``default`` is the one to use."""

    legacy_code: str
    ward_codes: tuple[str, ...]
    default: str

    @property
    def ambiguous(self) -> bool:
        return len(self.ward_codes) > 1


@dataclass(frozen=True)
class Location:
    """Where a person or workplace is, as precisely as the address allows."""

    ward_code: str | None
    legacy_district_code: str | None
    lat: float
    lon: float
    precision: str  # "ward" | "district"
    note: str | None = None


def haversine_km(lat1, lon1, lat2, lon2):  # noqa: ANN001, ANN201 - NumPy broadcasting
    """Great-circle distance in km; any argument may be a NumPy array (broadcast)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _key(text: str | None) -> str:
    return fold(text or "").replace(" ", "")


class _Keys(dict):
    """Dataset keys are folded names, except a few that keep diacritics to tell apart two
    units that fold alike (Hoằng Phú / Hoằng Phụ) or by inconsistency. Look up the exact key
    first, then the folded key when it is unambiguous."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        folded: dict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            folded[_key(key)].append(value)
        self.folded = {k: v[0] for k, v in folded.items() if len(set(v)) == 1}

    def find(self, key: str) -> str | None:
        return self.get(key) or self.folded.get(_key(key))


def _dataset_dir() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


class Geography:
    """All units, both layouts, with coordinates and the legacy → current conversion."""

    def __init__(self, data_dir: Path) -> None:
        db = sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True)
        try:
            current = db.execute(
                "SELECT wardCode, ward, provinceCode, province, wardLat, wardLon, provinceKey, wardKey "
                "FROM admin_units ORDER BY wardCode"
            ).fetchall()
            legacy = db.execute(
                "SELECT provinceCode, province, districtCode, district, districtLat, districtLon, "
                "wardCode, ward, wardLat, wardLon, provinceKey, districtKey, wardKey "
                "FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
            ).fetchall()
        finally:
            db.close()
        converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))

        # Current wards as parallel arrays.
        self.ward_codes = np.array([r[0] for r in current], dtype="<U5")
        self.ward_lat = np.array([r[4] for r in current], dtype=np.float64)
        self.ward_lon = np.array([r[5] for r in current], dtype=np.float64)
        self._ward_index = {code: i for i, code in enumerate(self.ward_codes.tolist())}
        self._located: dict[tuple[str | None, str | None, str | None], Location] = {}
        self._ward_rows = current
        by_key = _Keys([(f"{r[6]}_{r[7]}", r[0]) for r in current])
        self.provinces = {r[2]: r[3] for r in current}

        # Legacy units.
        self._legacy_wards: dict[str, LegacyUnit] = {}
        self._legacy_districts: dict[str, LegacyUnit] = {}
        legacy_pairs: list[tuple[str, str]] = []
        district_pairs: list[tuple[str, str]] = []
        self.legacy_provinces: dict[str, str] = {}
        for (pcode, pname, dcode, dname, dlat, dlon, wcode, wname, wlat, wlon, pkey, dkey, wkey) in legacy:
            self.legacy_provinces[pcode] = pname
            if dcode not in self._legacy_districts:
                self._legacy_districts[dcode] = LegacyUnit(dcode, dname, "district", pcode, pname, dcode, dname, dlat, dlon)
                district_pairs.append((f"{pkey}_{dkey}_", dcode))
            if wcode:
                self._legacy_wards[wcode] = LegacyUnit(wcode, wname, "ward", pcode, pname, dcode, dname, wlat, wlon)
                legacy_pairs.append((f"{pkey}_{dkey}_{wkey}", wcode))
        legacy_key_to_code, district_key = _Keys(legacy_pairs), _Keys(district_pairs)

        # Legacy ward (or ward-less island district) → current wards.
        targets: dict[str, list[str]] = {}
        defaults: dict[str, str] = {}

        def current_code(new_pkey: str, new_wkey: str) -> str | None:
            return by_key.find(f"{new_pkey}_{new_wkey}")

        for new_pkey, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            for new_wkey, old_keys in wards.items():
                code = current_code(new_pkey, new_wkey)
                if code is None:
                    continue
                for old_key in old_keys:
                    targets.setdefault(old_key, [])
                    if code not in targets[old_key]:
                        targets[old_key].append(code)
                    defaults.setdefault(old_key, code)
        for new_pkey, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
            for old_key, options in divided.items():
                codes = [c for o in options if (c := current_code(new_pkey, o["newWardKey"]))]
                if not codes:
                    continue
                targets[old_key] = codes
                default = next(
                    (current_code(new_pkey, o["newWardKey"]) for o in options if o["isDefaultNewWard"]), None
                )
                defaults[old_key] = default or codes[0]
        self._ward_conversions: dict[str, Conversion] = {}
        self._island_conversions: dict[str, Conversion] = {}
        for old_key, codes in targets.items():
            if wcode := legacy_key_to_code.find(old_key):
                self._ward_conversions[wcode] = Conversion(wcode, tuple(codes), defaults[old_key])
            elif dcode := district_key.find(old_key):
                self._island_conversions[dcode] = Conversion(dcode, tuple(codes), defaults[old_key])

        # Each current ward's legacy district: where most of its legacy wards were.
        origins: dict[str, Counter[str]] = defaultdict(Counter)
        for wcode, conv in self._ward_conversions.items():
            for code in conv.ward_codes:
                origins[code][self._legacy_wards[wcode].district_code] += 1 if code == conv.default else 0.5
        for dcode, conv in self._island_conversions.items():
            for code in conv.ward_codes:
                origins[code][dcode] += 1
        self._ward_district = {
            code: max(sorted(counter), key=lambda d: counter[d]) for code, counter in origins.items()
        }

    # ---- current layout -------------------------------------------------------------------
    def ward(self, code: str) -> Ward:
        """A post-2025 ward by code; raises ``UnknownArea``."""
        i = self._ward_index.get(code)
        if i is None:
            raise UnknownArea("ward", code)
        r = self._ward_rows[i]
        return Ward(r[0], r[1], r[2], r[3], r[4], r[5], self._ward_district.get(r[0]))

    def is_ward(self, code: str) -> bool:
        return code in self._ward_index

    def ward_index(self, code: str) -> int:
        """Position of a ward in ``ward_codes`` / ``ward_lat`` / ``ward_lon``."""
        try:
            return self._ward_index[code]
        except KeyError:
            raise UnknownArea("ward", code) from None

    def wards_of_province(self, province_code: str) -> list[Ward]:
        if province_code not in self.provinces:
            raise UnknownArea("province", province_code)
        return [self.ward(r[0]) for r in self._ward_rows if r[2] == province_code]

    # ---- legacy layout --------------------------------------------------------------------
    def legacy_ward(self, code: str) -> LegacyUnit:
        try:
            return self._legacy_wards[code]
        except KeyError:
            raise UnknownArea("legacy ward", code) from None

    def legacy_district(self, code: str) -> LegacyUnit:
        try:
            return self._legacy_districts[code]
        except KeyError:
            raise UnknownArea("legacy district", code) from None

    def legacy_districts_of_province(self, province_code: str) -> list[LegacyUnit]:
        if province_code not in self.legacy_provinces:
            raise UnknownArea("legacy province", province_code)
        return [d for d in self._legacy_districts.values() if d.province_code == province_code]

    def convert_legacy_ward(self, code: str) -> Conversion:
        """Current ward(s) a legacy ward became part of (several when it was divided)."""
        self.legacy_ward(code)
        try:
            return self._ward_conversions[code]
        except KeyError:
            raise UnknownArea("convertible legacy ward", code) from None

    def convert_legacy_district(self, code: str) -> Conversion:
        """Current wards a legacy district's territory now lies in; the default is the one
        nearest to the district's centre."""
        district = self.legacy_district(code)
        if code in self._island_conversions:
            return self._island_conversions[code]
        codes: list[str] = []
        for ward in self._legacy_wards.values():
            if ward.district_code == code and ward.code in self._ward_conversions:
                for c in self._ward_conversions[ward.code].ward_codes:
                    if c not in codes:
                        codes.append(c)
        if not codes:
            raise UnknownArea("convertible legacy district", code)
        idx = np.array([self._ward_index[c] for c in codes])
        nearest = int(np.argmin(haversine_km(district.lat, district.lon, self.ward_lat[idx], self.ward_lon[idx])))
        return Conversion(code, tuple(sorted(codes)), codes[nearest])

    # ---- addresses ------------------------------------------------------------------------
    def locate(
        self,
        ward_code: str | None = None,
        legacy_ward_code: str | None = None,
        legacy_district_code: str | None = None,
    ) -> Location:
        """The best location an address allows: a current ward, else a legacy ward converted,
        else a legacy district's centre. Raises ``UnknownArea`` for any bad code given.
        Answers are kept (there are only so many valid codes): an import asks for every row."""
        address = (ward_code, legacy_ward_code, legacy_district_code)
        location = self._located.get(address)
        if location is None:
            location = self._located[address] = self._locate(ward_code, legacy_ward_code, legacy_district_code)
        return location

    def locate_address(
        self,
        prefix: str,
        errors: list[dict[str, str]],
        ward_code: str | None = None,
        legacy_ward_code: str | None = None,
        legacy_district_code: str | None = None,
        need_ward: bool = False,
    ) -> Location | None:
        """``locate`` for an address a request gave: a bad code, or a district alone where
        ``need_ward``, goes on ``errors`` as a field error under ``prefix`` (``address``,
        ``workplace``), and the answer is None."""
        try:
            location = self.locate(ward_code, legacy_ward_code, legacy_district_code)
        except UnknownArea as exc:
            errors.append({"field": f"{prefix}.{exc.field}", "message": str(exc)})
            return None
        if location.ward_code is None and need_ward:
            errors.append({"field": f"{prefix}.ward_code", "message": "name the ward: a district alone is too coarse"})
            return None
        return location

    def _locate(self, ward_code: str | None, legacy_ward_code: str | None, legacy_district_code: str | None) -> Location:
        if ward_code:
            ward = self.ward(ward_code)
            district = legacy_district_code or ward.legacy_district_code
            if legacy_district_code:
                self.legacy_district(legacy_district_code)
            return Location(ward.code, district, ward.lat, ward.lon, "ward")
        if legacy_ward_code:
            legacy = self.legacy_ward(legacy_ward_code)
            if legacy_district_code and legacy_district_code != legacy.district_code:
                raise UnknownArea(f"ward of legacy district {legacy_district_code}", legacy_ward_code)
            conversion = self.convert_legacy_ward(legacy_ward_code)
            ward = self.ward(conversion.default)
            note = (
                f"legacy ward {legacy_ward_code} was divided between {', '.join(conversion.ward_codes)}; "
                f"{conversion.default} assumed"
                if conversion.ambiguous
                else None
            )
            return Location(ward.code, legacy.district_code, ward.lat, ward.lon, "ward", note)
        if legacy_district_code:
            district = self.legacy_district(legacy_district_code)
            return Location(None, district.code, district.lat, district.lon, "district")
        raise ValueError("an address needs a ward code or a legacy district code")

    def distance_km(self, a: Location, b: Location) -> float:
        return float(haversine_km(a.lat, a.lon, b.lat, b.lon))


@lru_cache(maxsize=1)
def geography() -> Geography:
    """The process-wide geography, loaded on first use (about 0.2 s)."""
    return Geography(_dataset_dir())
