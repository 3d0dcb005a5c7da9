-- case: cursor
BEGIN IMMEDIATE;
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = ?;
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
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= ?;
SELECT count(*) AS count_1
FROM _loaders_stage;
INSERT INTO g_append_cursor (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = ?;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (?, ?, ?, ?, ?, ?);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;

-- case: lookback
BEGIN IMMEDIATE;
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = ?;
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name TEXT,
	updated_at DATETIME,
	op TEXT,
	seq BIGINT
);
CREATE INDEX ix__loaders_stage ON _loaders_stage (id);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (?, ?, ?, ?, ?);
ANALYZE temp._loaders_stage;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= ?;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
SELECT count(*) AS count_1
FROM _loaders_stage;
INSERT INTO g_append_lookback (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_append_lookback
WHERE g_append_lookback.id = _loaders_stage.id));
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = ?;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (?, ?, ?, ?, ?, ?);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
