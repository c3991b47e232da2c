from reference.text import clean, fold, key, tokens


def test_fold_removes_diacritics_and_handles_d_with_stroke() -> None:
    assert fold("HÀN  ĐIỆN") == "han dien"
    assert fold("Đ") == "d" and fold("đường") == "duong"
    assert fold("Nguyễn Thị Ánh Tuyết") == "nguyen thi anh tuyet"


def test_decomposed_input_is_recomposed() -> None:
    decomposed = "Hải Phòng".encode().decode()  # NFC already; build an NFD variant
    import unicodedata

    nfd = unicodedata.normalize("NFD", decomposed)
    assert nfd != decomposed and clean(nfd) == decomposed
    assert fold(nfd) == "hai phong"


def test_tokens_and_keys_drop_punctuation() -> None:
    assert tokens("Hàn điện (3G), MIG/MAG") == ["han", "dien", "3g", "mig", "mag"]
    assert key("  Lái   xe nâng! ") == "lai xe nang"
