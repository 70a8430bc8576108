-- Gold layer, version 4: the read-only role for BI tools (`nova_bi`).
-- Created NOLOGIN here; the loader gives it LOGIN and a password only when NOVA_BI_PASSWORD is set.
-- Roles are cluster-wide: creating it is skipped (with a warning) when the migrator may not create
-- roles, and a concurrent creation by another database's migration is tolerated.
CREATE SCHEMA IF NOT EXISTS marts;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nova_bi') THEN
        CREATE ROLE nova_bi NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN RAISE WARNING 'cannot create role nova_bi: no read-only BI role';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nova_bi') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO nova_bi', current_database());
        GRANT USAGE ON SCHEMA core, analytics, support, marts TO nova_bi;
        GRANT SELECT ON ALL TABLES IN SCHEMA core, analytics, support, marts TO nova_bi;
        -- Tables created later by this (the loading) role, dbt's marts included, are readable too.
        ALTER DEFAULT PRIVILEGES IN SCHEMA core, analytics, support, marts GRANT SELECT ON TABLES TO nova_bi;
        REVOKE ALL ON SCHEMA staging FROM nova_bi;
    END IF;
END
$$;
