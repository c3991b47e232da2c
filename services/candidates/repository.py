"""All SQL of the candidates service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import String, and_, any_, bindparam, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import insert_records, insert_rows
from services.candidates.models import Candidate, CandidateImport, CandidateTag

if TYPE_CHECKING:
    from services.candidates.importing import Ready

CANDIDATE_COLUMNS = tuple(c.key for c in Candidate.__table__.columns)  # the order of a bulk-written row


async def get(session: AsyncSession, candidate_id: str, for_update: bool = False) -> Candidate | None:
    stmt = select(Candidate).where(Candidate.id == candidate_id, Candidate.erased_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def find_duplicate(session: AsyncSession, national_id_hash: str | None, person_hash: str | None,
                         exclude: str | None = None) -> Candidate | None:
    conditions = []
    if national_id_hash:
        conditions.append(Candidate.national_id_hash == national_id_hash)
    if person_hash:
        conditions.append(Candidate.person_hash == person_hash)
    if not conditions:
        return None
    stmt = select(Candidate).where(or_(*conditions))
    if exclude:
        stmt = stmt.where(Candidate.id != exclude)
    return (await session.scalars(stmt.limit(1))).first()


async def find_duplicates(session: AsyncSession, national_id_hashes: list[str], person_hashes: list[str]) -> list[Candidate]:
    if not (national_id_hashes or person_hashes):
        return []
    if session.bind.dialect.name == "postgresql":
        # Two array parameters, not an IN list of a thousand: planning that list cost PostgreSQL
        # more than the index lookups themselves.
        hashes = ARRAY(String)
        condition = or_(Candidate.national_id_hash == any_(bindparam("nid", national_id_hashes, type_=hashes)),
                        Candidate.person_hash == any_(bindparam("person", person_hashes, type_=hashes)))
    else:
        condition = or_(Candidate.national_id_hash.in_(national_id_hashes), Candidate.person_hash.in_(person_hashes))
    return list((await session.scalars(select(Candidate).where(condition))).all())


async def add_ready(session: AsyncSession, candidates: Sequence[Ready]) -> None:
    """New candidates and their tags, written in bulk (on PostgreSQL a COPY each) from their rows
    in ``CANDIDATE_COLUMNS`` order."""
    if not candidates:
        return
    await insert_records(session, Candidate.__table__, CANDIDATE_COLUMNS, [c.row for c in candidates])
    await insert_records(session, CandidateTag.__table__, ("kind", "value", "candidate_id"),
                         [(kind, value, c.id) for c in candidates for kind, value in c.tags])


async def add(session: AsyncSession, candidate: Candidate, tags: Sequence[tuple[str, str]]) -> None:
    session.add(candidate)
    await session.flush()
    await replace_tags(session, candidate.id, (), tags)


async def replace_tags(session: AsyncSession, candidate_id: str, before: Sequence[tuple[str, str]],
                       after: Sequence[tuple[str, str]]) -> None:
    """Change a candidate's tags from ``before`` to ``after``: the rows that go are deleted by
    their key (which leads with the value), the new ones inserted."""
    old, new = dict.fromkeys(before), dict.fromkeys(after)
    table = CandidateTag.__table__
    if gone := [{"k": k, "v": v, "c": candidate_id} for k, v in old if (k, v) not in new]:
        await session.execute(
            delete(table).where(table.c.kind == bindparam("k"), table.c.value == bindparam("v"),
                                table.c.candidate_id == bindparam("c")),
            gone,
        )
    if added := [{"kind": k, "value": v, "candidate_id": candidate_id} for k, v in new if (k, v) not in old]:
        await insert_rows(session, table, added)


async def search(
    session: AsyncSession,
    *,
    owner_centre: str | None,
    owner_client: str | None,
    tags: Sequence[tuple[str, str]],
    ward_code: str | None,
    district_code: str | None,
    min_trade_level: int | None,
    status: str | None,
    words: Sequence[str],
    after: str | None,
    limit: int,
) -> list[Candidate]:
    """Live candidates matching every filter, in id order (ids grow with time), after a cursor.
    ``owner_*`` limit the search to one centre's (or one client's) candidates; both None = all."""
    stmt = select(Candidate).where(Candidate.erased_at.is_(None))
    if owner_centre is not None or owner_client is not None:
        stmt = stmt.where(
            or_(
                and_(Candidate.centre_id.is_not(None), Candidate.centre_id == owner_centre),
                Candidate.registered_by == owner_client,
            )
        )
    for kind, value in tags:
        stmt = stmt.where(
            exists().where(
                CandidateTag.candidate_id == Candidate.id, CandidateTag.kind == kind, CandidateTag.value == value
            )
        )
    if ward_code:
        stmt = stmt.where(Candidate.ward_code == ward_code)
    if district_code:
        stmt = stmt.where(Candidate.legacy_district_code == district_code)
    if min_trade_level is not None:
        stmt = stmt.where(Candidate.trade_level >= min_trade_level)
    if status:
        stmt = stmt.where(Candidate.status == status)
    if words:
        # The words as a phrase starting at a word boundary: "nguyen van an" finds "Nguyễn Văn An"
        # (and "Nguyễn Văn Anh"), not every Nguyễn who has "vận hành" among his skills.
        phrase = " ".join(words).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Candidate.search_text.like(f"% {phrase}%", escape="\\"))
    if after:
        stmt = stmt.where(Candidate.id > after)
    return list((await session.scalars(stmt.order_by(Candidate.id).limit(limit))).all())


async def save_import(session: AsyncSession, job: CandidateImport) -> None:
    """Insert or update an import job's row (its counters move with every batch)."""
    await session.merge(job)


async def get_import(session: AsyncSession, import_id: str) -> CandidateImport | None:
    return await session.get(CandidateImport, import_id)
