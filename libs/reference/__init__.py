"""Reference data shared by the services: Vietnamese text folding, geography (pre- and
post-2025 administrative units), occupations (ISCO-08 / VSCO 2020), skills, trade levels and
qualifications. Everything loads from files shipped in the repo or in installed packages."""


def load() -> None:
    """Load the geography, the occupations and the skill vocabulary now (each is loaded once per
    process), so a service's first request or an import's first batch does not pay for it."""
    from reference.geography import geography
    from reference.occupations import occupations
    from reference.skills import skill_vocabulary

    geography(), occupations(), skill_vocabulary()
