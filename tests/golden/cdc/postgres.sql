-- case: hard
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
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR));
DELETE FROM _loaders_stage WHERE _loaders_stage.seq < %(param_1)s::BIGINT OR _loaders_stage.seq = %(param_1)s::BIGINT AND (_loaders_stage.op NOT IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR));
SELECT _loaders_stage.id, _loaders_stage.seq, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id, _loaders_stage.seq
HAVING count(*) > %(count_1)s::INTEGER ORDER BY n DESC
 LIMIT %(param_1)s::INTEGER;
CREATE TEMPORARY TABLE _loaders_stage_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage.id AS id, _loaders_stage.name AS name, _loaders_stage.updated_at AS updated_at, _loaders_stage.op AS op, _loaders_stage.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage.id ORDER BY _loaders_stage.seq DESC) AS _rn
FROM _loaders_stage) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR, %(op_1_3)s::VARCHAR, %(op_1_4)s::VARCHAR, %(op_1_5)s::VARCHAR, %(op_1_6)s::VARCHAR, %(op_1_7)s::VARCHAR, %(op_1_8)s::VARCHAR, %(op_1_9)s::VARCHAR, %(op_1_10)s::VARCHAR, %(op_1_11)s::VARCHAR, %(op_1_12)s::VARCHAR)) OR _loaders_stage_batch.op IS NULL) THEN %(param_1)s::INTEGER END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (%(op_2_1)s::VARCHAR, %(op_2_2)s::VARCHAR)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
DELETE FROM g_cdc_hard WHERE EXISTS (SELECT *
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.id = g_cdc_hard.id AND _loaders_stage_batch.op IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR));
SELECT EXISTS (
  SELECT 1 FROM pg_catalog.pg_index i
  WHERE i.indrelid = to_regclass(%(table)s) AND i.indisunique AND i.indisvalid AND i.indimmediate
    AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = %(n)s
    AND ARRAY(
      SELECT a.attname::text FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    ) @> CAST(%(keys)s AS text[]));
SELECT count(*) AS count_1
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR, %(op_1_3)s::VARCHAR, %(op_1_4)s::VARCHAR, %(op_1_5)s::VARCHAR, %(op_1_6)s::VARCHAR, %(op_1_7)s::VARCHAR, %(op_1_8)s::VARCHAR) AND NOT (EXISTS (SELECT *
FROM g_cdc_hard
WHERE g_cdc_hard.id = _loaders_stage_batch.id));
INSERT INTO g_cdc_hard (id, name, updated_at, seq) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR, %(op_1_3)s::VARCHAR, %(op_1_4)s::VARCHAR, %(op_1_5)s::VARCHAR, %(op_1_6)s::VARCHAR, %(op_1_7)s::VARCHAR, %(op_1_8)s::VARCHAR) ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at, seq = excluded.seq WHERE g_cdc_hard.name IS DISTINCT FROM excluded.name OR g_cdc_hard.updated_at IS DISTINCT FROM excluded.updated_at OR g_cdc_hard.seq IS DISTINCT FROM excluded.seq;
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = %(mart_1)s::VARCHAR;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (%(mart)s::VARCHAR, %(target_table)s::VARCHAR, %(cursor_column)s::VARCHAR, %(value)s::VARCHAR, %(value_type)s::VARCHAR, %(updated_at)s::TIMESTAMP WITHOUT TIME ZONE);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;

-- case: soft
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
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR));
DELETE FROM _loaders_stage WHERE _loaders_stage.seq < %(param_1)s::BIGINT OR _loaders_stage.seq = %(param_1)s::BIGINT AND (_loaders_stage.op NOT IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR));
SELECT _loaders_stage.id, _loaders_stage.seq, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id, _loaders_stage.seq
HAVING count(*) > %(count_1)s::INTEGER ORDER BY n DESC
 LIMIT %(param_1)s::INTEGER;
CREATE TEMPORARY TABLE _loaders_stage_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage.id AS id, _loaders_stage.name AS name, _loaders_stage.updated_at AS updated_at, _loaders_stage.op AS op, _loaders_stage.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage.id ORDER BY _loaders_stage.seq DESC) AS _rn
FROM _loaders_stage) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR, %(op_1_3)s::VARCHAR, %(op_1_4)s::VARCHAR, %(op_1_5)s::VARCHAR, %(op_1_6)s::VARCHAR, %(op_1_7)s::VARCHAR, %(op_1_8)s::VARCHAR, %(op_1_9)s::VARCHAR, %(op_1_10)s::VARCHAR, %(op_1_11)s::VARCHAR, %(op_1_12)s::VARCHAR)) OR _loaders_stage_batch.op IS NULL) THEN %(param_1)s::INTEGER END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (%(op_2_1)s::VARCHAR, %(op_2_2)s::VARCHAR)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
UPDATE g_cdc_soft SET _deleted=true FROM _loaders_stage_batch WHERE g_cdc_soft.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR) AND g_cdc_soft._deleted IS NOT true;
SELECT EXISTS (
  SELECT 1 FROM pg_catalog.pg_index i
  WHERE i.indrelid = to_regclass(%(table)s) AND i.indisunique AND i.indisvalid AND i.indimmediate
    AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = %(n)s
    AND ARRAY(
      SELECT a.attname::text FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    ) @> CAST(%(keys)s AS text[]));
SELECT count(*) AS count_1
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR, %(op_1_3)s::VARCHAR, %(op_1_4)s::VARCHAR, %(op_1_5)s::VARCHAR, %(op_1_6)s::VARCHAR, %(op_1_7)s::VARCHAR, %(op_1_8)s::VARCHAR) AND NOT (EXISTS (SELECT *
FROM g_cdc_soft
WHERE g_cdc_soft.id = _loaders_stage_batch.id));
INSERT INTO g_cdc_soft (id, name, updated_at, seq, _deleted) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq, false AS _deleted
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (%(op_1_1)s::VARCHAR, %(op_1_2)s::VARCHAR, %(op_1_3)s::VARCHAR, %(op_1_4)s::VARCHAR, %(op_1_5)s::VARCHAR, %(op_1_6)s::VARCHAR, %(op_1_7)s::VARCHAR, %(op_1_8)s::VARCHAR) ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at, seq = excluded.seq, _deleted = excluded._deleted WHERE g_cdc_soft.name IS DISTINCT FROM excluded.name OR g_cdc_soft.updated_at IS DISTINCT FROM excluded.updated_at OR g_cdc_soft.seq IS DISTINCT FROM excluded.seq OR g_cdc_soft._deleted IS DISTINCT FROM excluded._deleted;
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = %(mart_1)s::VARCHAR;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (%(mart)s::VARCHAR, %(target_table)s::VARCHAR, %(cursor_column)s::VARCHAR, %(value)s::VARCHAR, %(value_type)s::VARCHAR, %(updated_at)s::TIMESTAMP WITHOUT TIME ZONE);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;
