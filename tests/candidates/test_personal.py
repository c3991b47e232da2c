"""Protection of personal data: the blind index is HMAC-SHA-256 under the derived key, and a
national ID decrypts only for the candidate it was encrypted for."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.exceptions import InvalidTag

from services.candidates.personal import PersonalDataProtector, _derive

KEY = b"k" * 40


@pytest.mark.parametrize("parts", [("national_id", "030209618495"), ("person", "+84912345678", "nguyen van an", "2000-01-02"),
                                   ("person", "", "", ""), ("x" * 200,)])
def test_blind_index_is_hmac_sha256_under_the_derived_key(parts: tuple[str, ...]) -> None:
    key = _derive(KEY, b"joblink/candidates/blind-index/v1")
    expected = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    protector = PersonalDataProtector(KEY)
    assert protector.blind_index(*parts) == expected
    assert protector.blind_index(*parts) == expected  # the keyed states are copied, never used up


def test_a_national_id_decrypts_only_for_its_candidate() -> None:
    protector = PersonalDataProtector(KEY)
    blob = protector.encrypt("030209618495", "candidate-1")
    assert protector.decrypt(blob, "candidate-1") == "030209618495"
    with pytest.raises(InvalidTag):
        protector.decrypt(blob, "candidate-2")
    assert PersonalDataProtector(b"o" * 40).blind_index("a") != protector.blind_index("a")
