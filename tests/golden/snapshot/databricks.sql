-- case: retain
-- the first load's table:
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
