-- case: cursor
-- the first load's table:
CREATE TABLE g_append_cursor (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
-- the second load (a plan, so it ends in ROLLBACK):
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = :`mart_1`;
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT
);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= :`param_1`;
SELECT count(*) AS count_1
FROM _loaders_stage;
BEGIN TRANSACTION;
INSERT INTO g_append_cursor (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (:`run_id`, :`mart`, :`strategy`, :`target_table`, :`started_at`, :`finished_at`, :`status`, :`rows_in`, :`inserted`, :`updated`, :`deleted`, :`closed`, :`unchanged`, :`watermark_before`, :`watermark_after`, :`error`, :`batch_key`, :`checks`);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;

-- case: lookback
-- the first load's table:
CREATE TABLE g_append_lookback (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
-- the second load (a plan, so it ends in ROLLBACK):
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = :`mart_1`;
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (:`id`, :`name`, :`updated_at`, :`op`, :`seq`);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= :`param_1`;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > :`count_1` ORDER BY n DESC
 LIMIT :`param_1`;
SELECT count(*) AS count_1
FROM _loaders_stage;
BEGIN TRANSACTION;
INSERT INTO g_append_lookback (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_append_lookback
WHERE g_append_lookback.id = _loaders_stage.id));
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (:`run_id`, :`mart`, :`strategy`, :`target_table`, :`started_at`, :`finished_at`, :`status`, :`rows_in`, :`inserted`, :`updated`, :`deleted`, :`closed`, :`unchanged`, :`watermark_before`, :`watermark_after`, :`error`, :`batch_key`, :`checks`);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;

-- case: query_in_warehouse
-- the first load's table:
CREATE TABLE g_append_query_in_warehouse (
	id BIGINT,
	name STRING,
	updated_at TIMESTAMP_NTZ,
	op STRING,
	seq BIGINT
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
-- the second load (a plan, so it ends in ROLLBACK):
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = :`mart_1`;
CREATE TEMPORARY TABLE _loaders_stage AS SELECT id, name, updated_at, op, seq FROM raw.customers WHERE :`watermark` IS NULL OR updated_at > :`watermark`;
SELECT count(*) AS count_1
FROM _loaders_stage;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= :`param_1`;
SELECT count(*) AS count_1
FROM _loaders_stage;
BEGIN TRANSACTION;
INSERT INTO g_append_query_in_warehouse (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (:`run_id`, :`mart`, :`strategy`, :`target_table`, :`started_at`, :`finished_at`, :`status`, :`rows_in`, :`inserted`, :`updated`, :`deleted`, :`closed`, :`unchanged`, :`watermark_before`, :`watermark_after`, :`error`, :`batch_key`, :`checks`);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
