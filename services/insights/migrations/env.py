from kit.migrations import run_migrations
from services.insights.models import Base

run_migrations(Base.metadata)
