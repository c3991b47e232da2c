-- JobLink databases: one per service, all owned by the role "joblink".
-- Idempotent (creates only what is missing); needs psql because of \gexec.
-- Used by:
--   * deploy/local/postgres.sh on every start (run as the superuser "postgres");
--   * the postgres container of deploy/local/compose.yaml, mounted into
--     /docker-entrypoint-initdb.d/ (first start only; there "joblink" is the
--     superuser created from POSTGRES_USER, so the CREATE ROLE is skipped).

SELECT 'CREATE ROLE joblink LOGIN CREATEDB PASSWORD ''joblink'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joblink')
\gexec

SELECT format('CREATE DATABASE %I OWNER joblink', db)
FROM unnest(ARRAY[
    'joblink_candidates',
    'joblink_vacancies',
    'joblink_matching',
    'joblink_notifications',
    'joblink_insights',
    'joblink_gateway'
]) AS db
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = db)
\gexec
