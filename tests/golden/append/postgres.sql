-- case: cursor
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = %(mart_1)s::VARCHAR;
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name TEXT,
	updated_at TIMESTAMP WITHOUT TIME ZONE,
	op TEXT,
	seq BIGINT
);
ANALYZE _loaders_stage;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= %(param_1)s::TIMESTAMP WITHOUT TIME ZONE;
SELECT count(*) AS count_1
FROM _loaders_stage;
INSERT INTO g_append_cursor (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = %(mart_1)s::VARCHAR;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (%(mart)s::VARCHAR, %(target_table)s::VARCHAR, %(cursor_column)s::VARCHAR, %(value)s::VARCHAR, %(value_type)s::VARCHAR, %(updated_at)s::TIMESTAMP WITHOUT TIME ZONE);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;

-- case: lookback
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = %(mart_1)s::VARCHAR;
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name TEXT,
	updated_at TIMESTAMP WITHOUT TIME ZONE,
	op TEXT,
	seq BIGINT
);
ANALYZE _loaders_stage;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
DELETE FROM _loaders_stage WHERE _loaders_stage.updated_at <= %(param_1)s::TIMESTAMP WITHOUT TIME ZONE;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s::INTEGER ORDER BY n DESC
 LIMIT %(param_1)s::INTEGER;
SELECT count(*) AS count_1
FROM _loaders_stage;
INSERT INTO g_append_lookback (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_append_lookback
WHERE g_append_lookback.id = _loaders_stage.id));
SELECT max(_loaders_stage.updated_at) AS max_1
FROM _loaders_stage;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = %(mart_1)s::VARCHAR;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (%(mart)s::VARCHAR, %(target_table)s::VARCHAR, %(cursor_column)s::VARCHAR, %(value)s::VARCHAR, %(value_type)s::VARCHAR, %(updated_at)s::TIMESTAMP WITHOUT TIME ZONE);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;
