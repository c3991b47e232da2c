from kit.migrations import run_migrations
from services.vacancies.models import Base

run_migrations(Base.metadata)
