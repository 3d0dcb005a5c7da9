-- case: hard
-- the first load's table:
CREATE TABLE g_cdc_hard (
	id BIGINT,
	name VARCHAR,
	updated_at TIMESTAMP(6),
	seq BIGINT
);
-- the second load (a plan, so it ends in ROLLBACK):
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = %(mart_1)s;
CREATE TABLE _loaders_stage (
	id BIGINT,
	name VARCHAR,
	updated_at TIMESTAMP(6),
	op VARCHAR,
	seq BIGINT
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN (%(op_1_1)s, %(op_1_2)s));
DELETE FROM _loaders_stage WHERE _loaders_stage.seq < %(param_1)s OR _loaders_stage.seq = %(param_1)s AND (_loaders_stage.op NOT IN (%(op_1_1)s, %(op_1_2)s));
SELECT _loaders_stage.id, _loaders_stage.seq, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id, _loaders_stage.seq
HAVING count(*) > %(count_1)s ORDER BY n DESC
LIMIT %(param_1)s;
CREATE TABLE _loaders_stage_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage.id AS id, _loaders_stage.name AS name, _loaders_stage.updated_at AS updated_at, _loaders_stage.op AS op, _loaders_stage.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage.id ORDER BY _loaders_stage.seq DESC) AS _rn
FROM _loaders_stage) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (%(op_1_1)s, %(op_1_2)s, %(op_1_3)s, %(op_1_4)s, %(op_1_5)s, %(op_1_6)s, %(op_1_7)s, %(op_1_8)s, %(op_1_9)s, %(op_1_10)s, %(op_1_11)s, %(op_1_12)s)) OR _loaders_stage_batch.op IS NULL) THEN %(param_1)s END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (%(op_2_1)s, %(op_2_2)s)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
START TRANSACTION;
DELETE FROM g_cdc_hard WHERE EXISTS (SELECT *
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.id = g_cdc_hard.id AND _loaders_stage_batch.op IN (%(op_1_1)s, %(op_1_2)s));
MERGE INTO g_cdc_hard USING _loaders_stage_batch
ON g_cdc_hard.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (%(op_1_1)s, %(op_1_2)s, %(op_1_3)s, %(op_1_4)s, %(op_1_5)s, %(op_1_6)s, %(op_1_7)s, %(op_1_8)s) AND (g_cdc_hard.name IS DISTINCT FROM _loaders_stage_batch.name OR g_cdc_hard.updated_at IS DISTINCT FROM _loaders_stage_batch.updated_at OR g_cdc_hard.seq IS DISTINCT FROM _loaders_stage_batch.seq)
WHEN MATCHED THEN UPDATE SET name = _loaders_stage_batch.name, updated_at = _loaders_stage_batch.updated_at, seq = _loaders_stage_batch.seq;
INSERT INTO g_cdc_hard (id, name, updated_at, seq) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (%(op_1_1)s, %(op_1_2)s, %(op_1_3)s, %(op_1_4)s, %(op_1_5)s, %(op_1_6)s, %(op_1_7)s, %(op_1_8)s) AND NOT (EXISTS (SELECT *
FROM g_cdc_hard
WHERE g_cdc_hard.id = _loaders_stage_batch.id));
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;

-- case: soft
-- the first load's table:
CREATE TABLE g_cdc_soft (
	id BIGINT,
	name VARCHAR,
	updated_at TIMESTAMP(6),
	seq BIGINT,
	_deleted BOOLEAN
);
-- the second load (a plan, so it ends in ROLLBACK):
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = %(mart_1)s;
CREATE TABLE _loaders_stage (
	id BIGINT,
	name VARCHAR,
	updated_at TIMESTAMP(6),
	op VARCHAR,
	seq BIGINT
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN (%(op_1_1)s, %(op_1_2)s));
DELETE FROM _loaders_stage WHERE _loaders_stage.seq < %(param_1)s OR _loaders_stage.seq = %(param_1)s AND (_loaders_stage.op NOT IN (%(op_1_1)s, %(op_1_2)s));
SELECT _loaders_stage.id, _loaders_stage.seq, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id, _loaders_stage.seq
HAVING count(*) > %(count_1)s ORDER BY n DESC
LIMIT %(param_1)s;
CREATE TABLE _loaders_stage_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage.id AS id, _loaders_stage.name AS name, _loaders_stage.updated_at AS updated_at, _loaders_stage.op AS op, _loaders_stage.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage.id ORDER BY _loaders_stage.seq DESC) AS _rn
FROM _loaders_stage) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (%(op_1_1)s, %(op_1_2)s, %(op_1_3)s, %(op_1_4)s, %(op_1_5)s, %(op_1_6)s, %(op_1_7)s, %(op_1_8)s, %(op_1_9)s, %(op_1_10)s, %(op_1_11)s, %(op_1_12)s)) OR _loaders_stage_batch.op IS NULL) THEN %(param_1)s END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (%(op_2_1)s, %(op_2_2)s)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
START TRANSACTION;
MERGE INTO g_cdc_soft USING _loaders_stage_batch
ON g_cdc_soft.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (%(op_1_1)s, %(op_1_2)s) AND g_cdc_soft._deleted IS NOT true
WHEN MATCHED THEN UPDATE SET _deleted = true;
MERGE INTO g_cdc_soft USING _loaders_stage_batch
ON g_cdc_soft.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (%(op_1_1)s, %(op_1_2)s, %(op_1_3)s, %(op_1_4)s, %(op_1_5)s, %(op_1_6)s, %(op_1_7)s, %(op_1_8)s) AND (g_cdc_soft.name IS DISTINCT FROM _loaders_stage_batch.name OR g_cdc_soft.updated_at IS DISTINCT FROM _loaders_stage_batch.updated_at OR g_cdc_soft.seq IS DISTINCT FROM _loaders_stage_batch.seq OR g_cdc_soft._deleted IS true)
WHEN MATCHED THEN UPDATE SET name = _loaders_stage_batch.name, updated_at = _loaders_stage_batch.updated_at, seq = _loaders_stage_batch.seq, _deleted = false;
INSERT INTO g_cdc_soft (id, name, updated_at, seq, _deleted) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq, false AS _deleted
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (%(op_1_1)s, %(op_1_2)s, %(op_1_3)s, %(op_1_4)s, %(op_1_5)s, %(op_1_6)s, %(op_1_7)s, %(op_1_8)s) AND NOT (EXISTS (SELECT *
FROM g_cdc_soft
WHERE g_cdc_soft.id = _loaders_stage_batch.id));
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;
