import numpy as np
import pytest

from reference.geography import UnknownArea, geography, haversine_km

# Legacy districts of Hải Phòng (province 31) before 1 July 2025.
HAI_PHONG_DISTRICTS = {
    "303": "Hồng Bàng", "304": "Ngô Quyền", "305": "Lê Chân", "306": "Hải An", "307": "Kiến An",
    "308": "Đồ Sơn", "309": "Dương Kinh", "311": "Thủy Nguyên", "312": "An Dương", "313": "An Lão",
    "314": "Kiến Thụy", "315": "Tiên Lãng", "316": "Vĩnh Bảo", "317": "Cát Hải", "318": "Bạch Long Vĩ",
}


def test_hai_phong_after_the_merger_has_its_wards_with_coordinates() -> None:
    wards = geography().wards_of_province("31")
    assert len(wards) == 114
    assert all(19.5 < w.lat < 21.5 and 105.9 < w.lon < 108 for w in wards)
    assert all(w.legacy_district_code for w in wards)


@pytest.mark.parametrize(("code", "name"), sorted(HAI_PHONG_DISTRICTS.items()))
def test_every_legacy_hai_phong_district_resolves_to_current_wards(code: str, name: str) -> None:
    geo = geography()
    district = geo.legacy_district(code)
    assert name in district.name
    conversion = geo.convert_legacy_district(code)
    assert conversion.default in conversion.ward_codes
    for ward_code in conversion.ward_codes:
        ward = geo.ward(ward_code)
        assert ward.province_code == "31"
        assert np.isfinite([ward.lat, ward.lon]).all()


def test_every_legacy_ward_of_hai_phong_and_hai_duong_converts_into_new_hai_phong() -> None:
    geo = geography()
    legacy = [w for w in geo._legacy_wards.values() if w.province_code in ("30", "31")]  # noqa: SLF001
    assert len(legacy) == 167 + 207  # Bạch Long Vĩ island district has no wards
    for ward in legacy:
        conversion = geo.convert_legacy_ward(ward.code)
        assert all(geo.ward(c).province_code == "31" for c in conversion.ward_codes), ward
    assert {d.code for d in geo.legacy_districts_of_province("30")}  # Hải Dương's districts exist too


def test_divided_legacy_ward_is_reported_as_ambiguous_with_a_default() -> None:
    geo = geography()
    divided = [
        geo.convert_legacy_ward(w.code)
        for w in geo._legacy_wards.values()  # noqa: SLF001
        if w.province_code == "31" and geo.convert_legacy_ward(w.code).ambiguous
    ]
    assert divided, "some Hải Phòng wards were split between new wards"
    location = geo.locate(legacy_ward_code=divided[0].legacy_code)
    assert location.ward_code == divided[0].default
    assert location.note and "divided" in location.note


def test_distance_ngo_quyen_to_kien_thuy_is_plausible() -> None:
    geo = geography()
    km = geo.distance_km(geo.locate(legacy_district_code="304"), geo.locate(legacy_district_code="314"))
    assert 10 <= km <= 30


def test_bad_codes_are_named_in_the_error() -> None:
    geo = geography()
    with pytest.raises(UnknownArea, match="'99999'"):
        geo.ward("99999")
    with pytest.raises(UnknownArea, match="legacy district"):
        geo.legacy_district("999")
    with pytest.raises(UnknownArea):
        geo.locate(ward_code="31")


def test_an_address_a_request_gave_is_located_or_its_bad_code_named_as_a_field() -> None:
    geo, errors = geography(), []
    ward = geo.wards_of_province("31")[0]
    assert geo.locate_address("address", errors, ward_code=ward.code).ward_code == ward.code
    assert geo.locate_address("address", errors, legacy_district_code="305").ward_code is None  # a district will do
    assert errors == []
    bad = [
        ("address", {"ward_code": "99999"}, "address.ward_code"),
        ("address", {"legacy_ward_code": "99999"}, "address.legacy_ward_code"),
        ("address", {"legacy_ward_code": "11329", "legacy_district_code": "305"}, "address.legacy_ward_code"),
        ("workplace", {"ward_code": ward.code, "legacy_district_code": "999"}, "workplace.legacy_district_code"),
    ]
    for prefix, codes, field in bad:
        errors = []
        assert geo.locate_address(prefix, errors, **codes) is None
        assert [e["field"] for e in errors] == [field], codes
    errors = []
    assert geo.locate_address("workplace", errors, legacy_district_code="305", need_ward=True) is None
    assert errors == [{"field": "workplace.ward_code", "message": "name the ward: a district alone is too coarse"}]


def test_locate_prefers_the_current_ward_and_falls_back_to_the_district() -> None:
    geo = geography()
    ward = geo.wards_of_province("31")[0]
    assert geo.locate(ward_code=ward.code).precision == "ward"
    by_district = geo.locate(legacy_district_code="305")
    assert by_district.precision == "district" and by_district.ward_code is None


def test_vectorised_distances_match_the_scalar_ones() -> None:
    geo = geography()
    lat, lon = geo.ward_lat, geo.ward_lon
    one = haversine_km(lat[0], lon[0], lat, lon)
    assert one.shape == lat.shape and one[0] == pytest.approx(0)
    assert one[100] == pytest.approx(float(haversine_km(lat[0], lon[0], lat[100], lon[100])))
    # A degree of latitude is about 111 km.
    assert float(haversine_km(20, 106, 21, 106)) == pytest.approx(111.2, abs=0.5)
