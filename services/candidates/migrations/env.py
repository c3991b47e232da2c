from kit.migrations import run_migrations
from services.candidates.models import Base

run_migrations(Base.metadata)
