-- case: retain
-- the first load's tables:
CREATE TABLE _loaders_watermarks (
	mart STRING NOT NULL,
	target_table STRING,
	cursor_column STRING,
	value STRING,
	value_type STRING,
	updated_at TIMESTAMP_NTZ,
	PRIMARY KEY (mart)
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
CREATE TABLE _loaders_runs (
	run_id STRING NOT NULL,
	mart STRING,
	strategy STRING,
	target_table STRING,
	started_at TIMESTAMP_NTZ,
	finished_at TIMESTAMP_NTZ,
	status STRING,
	rows_in BIGINT,
	inserted BIGINT,
	updated BIGINT,
	deleted BIGINT,
	closed BIGINT,
	unchanged BIGINT,
	watermark_before STRING,
	watermark_after STRING,
	error STRING,
	batch_key STRING,
	checks STRING,
	PRIMARY KEY (run_id)
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
CREATE TABLE _loaders_batches (
	mart STRING NOT NULL,
	batch_key STRING NOT NULL,
	run_id STRING,
	PRIMARY KEY (mart, batch_key)
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
CREATE TABLE g_snapshot_retain (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT,
	snapshot_date DATE
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
-- the second load (a plan, so it ends in ROLLBACK):
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (:`id`, :`name`, :`updated_at`, :`op`, :`seq`);
BEGIN TRANSACTION;
DELETE FROM g_snapshot_retain WHERE g_snapshot_retain.snapshot_date = :`param_1`;
INSERT INTO g_snapshot_retain (id, name, updated_at, op, seq, snapshot_date) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, :`param_1` AS snapshot_date
FROM _loaders_stage;
SELECT DISTINCT g_snapshot_retain.snapshot_date
FROM g_snapshot_retain ORDER BY g_snapshot_retain.snapshot_date DESC
 LIMIT :`param_1`;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (:`run_id`, :`mart`, :`strategy`, :`target_table`, :`started_at`, :`finished_at`, :`status`, :`rows_in`, :`inserted`, :`updated`, :`deleted`, :`closed`, :`unchanged`, :`watermark_before`, :`watermark_after`, :`error`, :`batch_key`, :`checks`);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
