-- Run once by the postgres image on an empty volume: the gold database `nova` is POSTGRES_DB;
-- Dagster's instance storage and MLflow's backend store get their own databases on the same server.
CREATE DATABASE dagster OWNER nova;
CREATE DATABASE mlflow OWNER nova;
