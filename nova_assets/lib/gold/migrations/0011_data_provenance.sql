-- Gold layer, version 11: what each cycle's rows are built from. The dashboard's SYNTHETIC banner and
-- the API's /health read it here, so the label describes the rows in gold, not the lake of the moment
-- (a file withdrawn after a cycle changes the label with the next cycle's rows, not before).
CREATE TABLE analytics.data_provenance (
    cycle_date            date PRIMARY KEY,
    erp_files             integer NOT NULL CHECK (erp_files >= 0),
    erp_sample_files      integer NOT NULL CHECK (erp_sample_files BETWEEN 0 AND erp_files),
    erp_unrecorded_files  integer NOT NULL CHECK (erp_unrecorded_files BETWEEN 0 AND erp_files),
    landing_is_sample     boolean NOT NULL,
    description           text NOT NULL
);
