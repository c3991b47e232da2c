import pytest

from reference.occupations import UnknownOccupation, match_depth, occupations


def test_the_whole_isco_08_structure_is_there() -> None:
    occs = occupations()
    assert (occs.count(1), occs.count(2), occs.count(3), occs.count(4)) == (10, 43, 130, 436)
    for occ in occs.all():
        if occ.level > 1:
            assert occ.parent == occ.code[:-1] and occ.parent in occs


def test_hai_phong_trades_are_labelled_in_both_languages() -> None:
    occs = occupations()
    for code in ("8212", "7212", "8153", "9333", "8344", "8332", "5120", "5223", "4311", "2512", "6221", "5322"):
        occ = occs.get(code)
        assert occ.label_vi and occ.label_en


def test_search_ignores_diacritics() -> None:
    found = {o.code for o in occupations().search("tho han")}
    assert "7212" in found


def test_match_depth_gives_partial_credit_by_shared_digits() -> None:
    assert match_depth("7212", "7212") == 4
    assert match_depth("7212", "7214") == 3
    assert match_depth("7212", "7231") == 2
    assert match_depth("7212", "8212") == 0


def test_a_person_or_a_vacancy_has_a_unit_group_not_a_group_of_them() -> None:
    assert occupations().unit_group("7212").level == 4
    with pytest.raises(UnknownOccupation, match="'721' is a group of occupations .*4-digit unit groups"):
        occupations().unit_group("721")
    with pytest.raises(UnknownOccupation, match="'9999' is not an ISCO-08"):
        occupations().unit_group("9999")
