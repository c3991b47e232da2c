from gateway.models import Base
from kit.migrations import run_migrations

run_migrations(Base.metadata)
