"""Which service owns which public path: the routing table of SPEC §4."""

import re

SERVICES = ("candidates", "vacancies", "matching", "notifications", "insights")

# First match wins: the matches endpoints live in matching although their paths start with the
# resource of another service.
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), service)
    for pattern, service in (
        (r"^/api/v1/(candidates|vacancies)/[^/]+/matches$", "matching"),
        (r"^/api/v1/candidates(:import)?(/.*)?$", "candidates"),
        (r"^/api/v1/(employers|vacancies)(:import)?(/.*)?$", "vacancies"),
        (r"^/api/v1/(job-fairs|invitations|matching)(/.*)?$", "matching"),
        (r"^/api/v1/(notifications|deliveries)(/.*)?$", "notifications"),
        (r"^/api/v1/stats(/.*)?$", "insights"),
        # public: the RSVP page people open from an invitation, and the SMS gateway's replies
        (r"^/rsvp/[^/]+(/opt-out)?$", "notifications"),
        (r"^/hooks/sms$", "notifications"),
    )
)


def service_for(path: str) -> str | None:
    """The service that serves ``path``, or None when no service does."""
    for pattern, service in ROUTES:
        if pattern.match(path):
            return service
    return None
