-- Runs once, when the PostgreSQL container first creates its database: the service's own
-- login, which Row Level Security applies to (migration 0004 grants it what it needs).
CREATE ROLE crm_app LOGIN PASSWORD 'crm_app' NOBYPASSRLS;
