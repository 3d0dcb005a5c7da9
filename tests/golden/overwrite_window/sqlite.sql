-- case: day
BEGIN IMMEDIATE;
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name TEXT,
	updated_at DATETIME,
	op TEXT,
	seq BIGINT
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (?, ?, ?, ?, ?);
ANALYZE temp._loaders_stage;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
DELETE FROM g_overwrite_window_day WHERE date(g_overwrite_window_day.updated_at) IN (SELECT DISTINCT date(_loaders_stage.updated_at) AS date_1
FROM _loaders_stage);
INSERT INTO g_overwrite_window_day (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
