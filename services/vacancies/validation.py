"""Rules for Vietnamese business identifiers."""

from __future__ import annotations

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.vn import mst


class InvalidValue(ValueError):
    """A value that breaks a rule; the message is safe to show."""


def normalise_tax_code(raw: str) -> str:
    """A mã số thuế as ``NNNNNNNNNN`` or ``NNNNNNNNNN-NNN`` (a branch), its check digit verified."""
    compact = raw.strip().replace(" ", "").replace(".", "")
    head, dash, branch = compact.partition("-")
    if not head.isdigit() or len(head) != 10 or (dash and (not branch.isdigit() or len(branch) != 3)):
        if head.isdigit() and len(head) == 13 and not dash:
            head, branch = head[:10], head[10:]
        else:
            raise InvalidValue("a tax code has 10 digits, or 10 digits, a dash and a 3-digit branch number")
    if branch == "000":
        raise InvalidValue("branch numbers run from 001 to 999")
    try:
        mst.validate(head)
    except InvalidChecksum:
        raise InvalidValue("the check digit (10th) does not match the first nine: a typing error?") from None
    except ValidationError:
        raise InvalidValue("not a valid tax code") from None
    return f"{head}-{branch}" if branch else head
