-- case: hard
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
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN (?, ?));
DELETE FROM _loaders_stage WHERE _loaders_stage.seq < ? OR _loaders_stage.seq = ? AND (_loaders_stage.op NOT IN (?, ?));
SELECT _loaders_stage.id, _loaders_stage.seq, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id, _loaders_stage.seq
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
CREATE TEMPORARY TABLE _loaders_stage_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage.id AS id, _loaders_stage.name AS name, _loaders_stage.updated_at AS updated_at, _loaders_stage.op AS op, _loaders_stage.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage.id ORDER BY _loaders_stage.seq DESC) AS _rn
FROM _loaders_stage) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) OR _loaders_stage_batch.op IS NULL) THEN ? END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (?, ?)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
DELETE FROM g_cdc_hard WHERE EXISTS (SELECT *
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.id = g_cdc_hard.id AND _loaders_stage_batch.op IN (?, ?));
UPDATE g_cdc_hard SET name=_loaders_stage_batch.name, updated_at=_loaders_stage_batch.updated_at, seq=_loaders_stage_batch.seq FROM _loaders_stage_batch WHERE g_cdc_hard.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) AND (g_cdc_hard.name IS NOT _loaders_stage_batch.name OR g_cdc_hard.updated_at IS NOT _loaders_stage_batch.updated_at OR g_cdc_hard.seq IS NOT _loaders_stage_batch.seq);
INSERT INTO g_cdc_hard (id, name, updated_at, seq) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) AND NOT (EXISTS (SELECT *
FROM g_cdc_hard
WHERE g_cdc_hard.id = _loaders_stage_batch.id));
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = ?;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (?, ?, ?, ?, ?, ?);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;

-- case: soft
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
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN (?, ?));
DELETE FROM _loaders_stage WHERE _loaders_stage.seq < ? OR _loaders_stage.seq = ? AND (_loaders_stage.op NOT IN (?, ?));
SELECT _loaders_stage.id, _loaders_stage.seq, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id, _loaders_stage.seq
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
CREATE TEMPORARY TABLE _loaders_stage_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage.id AS id, _loaders_stage.name AS name, _loaders_stage.updated_at AS updated_at, _loaders_stage.op AS op, _loaders_stage.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage.id ORDER BY _loaders_stage.seq DESC) AS _rn
FROM _loaders_stage) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) OR _loaders_stage_batch.op IS NULL) THEN ? END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (?, ?)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
UPDATE g_cdc_soft SET _deleted=1 FROM _loaders_stage_batch WHERE g_cdc_soft.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (?, ?) AND g_cdc_soft._deleted IS NOT 1;
UPDATE g_cdc_soft SET name=_loaders_stage_batch.name, updated_at=_loaders_stage_batch.updated_at, seq=_loaders_stage_batch.seq, _deleted=0 FROM _loaders_stage_batch WHERE g_cdc_soft.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) AND (g_cdc_soft.name IS NOT _loaders_stage_batch.name OR g_cdc_soft.updated_at IS NOT _loaders_stage_batch.updated_at OR g_cdc_soft.seq IS NOT _loaders_stage_batch.seq OR g_cdc_soft._deleted IS 1);
INSERT INTO g_cdc_soft (id, name, updated_at, seq, _deleted) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq, 0 AS _deleted
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) AND NOT (EXISTS (SELECT *
FROM g_cdc_soft
WHERE g_cdc_soft.id = _loaders_stage_batch.id));
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = ?;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (?, ?, ?, ?, ?, ?);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;
