"""Reference data shared by the services: Vietnamese text folding, geography (pre- and
post-2025 administrative units), occupations (ISCO-08 / VSCO 2020), skills, trade levels and
qualifications. Everything loads from files shipped in the repo or in installed packages."""
