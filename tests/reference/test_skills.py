import random

import pytest

from reference.occupations import occupations
from reference.skills import skill_vocabulary
from reference.text import key


def codes(text: str) -> list[str | None]:
    return [m.code for m in skill_vocabulary().normalise(text)]


def test_vocabulary_size_and_links() -> None:
    vocab = skill_vocabulary()
    assert len(vocab) >= 400
    assert vocab.alias_count >= 2 * len(vocab)
    occs = occupations()
    for skill in vocab.skills.values():
        assert skill.occupations and all(occs.get(o).level == 4 for o in skill.occupations)


def test_every_alias_names_exactly_one_skill() -> None:
    owners: dict[str, str] = {}
    for skill in skill_vocabulary().skills.values():
        for name in (skill.label_vi, *skill.aliases):
            assert owners.setdefault(key(name), skill.code) == skill.code, name


@pytest.mark.parametrize("text", ["Hàn điện", "han dien", "HÀN  ĐIỆN", "hàn hồ quang", "Han Dien"])
def test_spellings_of_manual_arc_welding_map_to_one_skill(text: str) -> None:
    assert codes(text) == codes("Hàn điện hồ quang tay") != [None]


def test_several_skills_in_one_sentence_in_order() -> None:
    found = codes("Biết hàn điện và lái xe nâng, may công nghiệp")
    assert found == codes("hàn điện") + codes("xe nâng") + codes("may công nghiệp")
    assert None not in found


def test_a_typo_within_the_threshold_maps_and_an_unrelated_word_does_not() -> None:
    typo = skill_vocabulary().normalise("han dein")
    assert [m.code for m in typo] == codes("hàn điện") and typo[0].how == "fuzzy"
    unrelated = skill_vocabulary().normalise("bóng đá")
    assert [(m.code, m.how, m.text) for m in unrelated] == [(None, "free_text", "bóng đá")]


def test_qualifiers_and_numbers_are_not_skills_but_unknown_words_are_kept() -> None:
    found = skill_vocabulary().normalise("kinh nghiệm 3 năm hàn TIG, chơi cờ vua")
    assert [m.code for m in found][0] == codes("hàn TIG")[0]
    assert found[-1].how == "free_text" and found[-1].text == "chơi cờ vua"
    assert skill_vocabulary().normalise("Đ") == []


def test_skill_codes_are_accepted_as_written() -> None:
    assert codes("sk0101") == ["SK0101"]


def test_the_fuzzy_match_looks_only_at_keys_of_a_possible_length_and_finds_the_same() -> None:
    from rapidfuzz import fuzz, process

    vocab = skill_vocabulary()
    rng = random.Random(1)
    texts = []
    for name in rng.sample(vocab._keys, 800):
        chars = list(name)
        for _ in range(rng.randint(0, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("abcdeghiklmnopqrstuvxy ")
        texts.append("".join(chars))
    for text in texts:
        everywhere = process.extractOne(text, vocab._keys, scorer=fuzz.ratio, score_cutoff=vocab.fuzzy_threshold)
        near = process.extractOne(text, vocab._keys_near(len(text)), scorer=fuzz.ratio, score_cutoff=vocab.fuzzy_threshold)
        assert (everywhere and everywhere[:2]) == (near and near[:2]), text
