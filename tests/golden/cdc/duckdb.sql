-- case: hard
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = $1;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN ($1, $2));
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq < $1 OR _loaders_stage.seq = $1 AND (_loaders_stage.op NOT IN ($2, $3));
CREATE TEMPORARY TABLE _loaders_stage_rows AS SELECT * FROM _loaders_stage;
SELECT _loaders_stage_rows.id, _loaders_stage_rows.seq, count(*) AS n
FROM _loaders_stage_rows GROUP BY _loaders_stage_rows.id, _loaders_stage_rows.seq
HAVING count(*) > $1 ORDER BY n DESC
 LIMIT $2;
CREATE TEMPORARY TABLE _loaders_stage_rows_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage_rows.id AS id, _loaders_stage_rows.name AS name, _loaders_stage_rows.updated_at AS updated_at, _loaders_stage_rows.op AS op, _loaders_stage_rows.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage_rows.id ORDER BY _loaders_stage_rows.seq DESC) AS _rn
FROM _loaders_stage_rows) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_rows_batch;
SELECT count(CASE WHEN ((_loaders_stage_rows_batch.op NOT IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)) OR _loaders_stage_rows_batch.op IS NULL) THEN $1 END) AS count_1, max(CASE WHEN (_loaders_stage_rows_batch.op IN ($14, $15)) THEN _loaders_stage_rows_batch.seq END) AS max_1
FROM _loaders_stage_rows_batch;
DELETE FROM g_cdc_hard WHERE EXISTS (SELECT *
FROM _loaders_stage_rows_batch
WHERE _loaders_stage_rows_batch.id = g_cdc_hard.id AND _loaders_stage_rows_batch.op IN ($1, $2));
UPDATE g_cdc_hard SET name=_loaders_stage_rows_batch.name, updated_at=_loaders_stage_rows_batch.updated_at, seq=_loaders_stage_rows_batch.seq FROM _loaders_stage_rows_batch WHERE g_cdc_hard.id = _loaders_stage_rows_batch.id AND _loaders_stage_rows_batch.op IN ($1, $2, $3, $4, $5, $6, $7, $8) AND (g_cdc_hard.name IS DISTINCT FROM _loaders_stage_rows_batch.name OR g_cdc_hard.updated_at IS DISTINCT FROM _loaders_stage_rows_batch.updated_at OR g_cdc_hard.seq IS DISTINCT FROM _loaders_stage_rows_batch.seq);
INSERT INTO g_cdc_hard (id, name, updated_at, seq) SELECT _loaders_stage_rows_batch.id, _loaders_stage_rows_batch.name, _loaders_stage_rows_batch.updated_at, _loaders_stage_rows_batch.seq
FROM _loaders_stage_rows_batch
WHERE _loaders_stage_rows_batch.op IN ($1, $2, $3, $4, $5, $6, $7, $8) AND NOT (EXISTS (SELECT *
FROM g_cdc_hard
WHERE g_cdc_hard.id = _loaders_stage_rows_batch.id));
SELECT max(_loaders_stage_rows_batch.seq) AS max_1
FROM _loaders_stage_rows_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = $1;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES ($1, $2, $3, $4, $5, $6);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_rows_batch;

-- case: soft
SELECT _loaders_watermarks.value, _loaders_watermarks.value_type, _loaders_watermarks.cursor_column
FROM _loaders_watermarks
WHERE _loaders_watermarks.mart = $1;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq IS NULL;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL AND (_loaders_stage.op NOT IN ($1, $2));
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.seq < $1 OR _loaders_stage.seq = $1 AND (_loaders_stage.op NOT IN ($2, $3));
CREATE TEMPORARY TABLE _loaders_stage_rows AS SELECT * FROM _loaders_stage;
SELECT _loaders_stage_rows.id, _loaders_stage_rows.seq, count(*) AS n
FROM _loaders_stage_rows GROUP BY _loaders_stage_rows.id, _loaders_stage_rows.seq
HAVING count(*) > $1 ORDER BY n DESC
 LIMIT $2;
CREATE TEMPORARY TABLE _loaders_stage_rows_batch AS SELECT ranked.id, ranked.name, ranked.updated_at, ranked.op, ranked.seq
FROM (SELECT _loaders_stage_rows.id AS id, _loaders_stage_rows.name AS name, _loaders_stage_rows.updated_at AS updated_at, _loaders_stage_rows.op AS op, _loaders_stage_rows.seq AS seq, row_number() OVER (PARTITION BY _loaders_stage_rows.id ORDER BY _loaders_stage_rows.seq DESC) AS _rn
FROM _loaders_stage_rows) AS ranked
WHERE ranked._rn = 1;
SELECT count(*) AS count_1
FROM _loaders_stage_rows_batch;
SELECT count(CASE WHEN ((_loaders_stage_rows_batch.op NOT IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)) OR _loaders_stage_rows_batch.op IS NULL) THEN $1 END) AS count_1, max(CASE WHEN (_loaders_stage_rows_batch.op IN ($14, $15)) THEN _loaders_stage_rows_batch.seq END) AS max_1
FROM _loaders_stage_rows_batch;
UPDATE g_cdc_soft SET _deleted=true FROM _loaders_stage_rows_batch WHERE g_cdc_soft.id = _loaders_stage_rows_batch.id AND _loaders_stage_rows_batch.op IN ($1, $2) AND g_cdc_soft._deleted IS NOT true;
UPDATE g_cdc_soft SET name=_loaders_stage_rows_batch.name, updated_at=_loaders_stage_rows_batch.updated_at, seq=_loaders_stage_rows_batch.seq, _deleted=false FROM _loaders_stage_rows_batch WHERE g_cdc_soft.id = _loaders_stage_rows_batch.id AND _loaders_stage_rows_batch.op IN ($1, $2, $3, $4, $5, $6, $7, $8) AND (g_cdc_soft.name IS DISTINCT FROM _loaders_stage_rows_batch.name OR g_cdc_soft.updated_at IS DISTINCT FROM _loaders_stage_rows_batch.updated_at OR g_cdc_soft.seq IS DISTINCT FROM _loaders_stage_rows_batch.seq OR g_cdc_soft._deleted IS true);
INSERT INTO g_cdc_soft (id, name, updated_at, seq, _deleted) SELECT _loaders_stage_rows_batch.id, _loaders_stage_rows_batch.name, _loaders_stage_rows_batch.updated_at, _loaders_stage_rows_batch.seq, false AS _deleted
FROM _loaders_stage_rows_batch
WHERE _loaders_stage_rows_batch.op IN ($1, $2, $3, $4, $5, $6, $7, $8) AND NOT (EXISTS (SELECT *
FROM g_cdc_soft
WHERE g_cdc_soft.id = _loaders_stage_rows_batch.id));
SELECT max(_loaders_stage_rows_batch.seq) AS max_1
FROM _loaders_stage_rows_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = $1;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES ($1, $2, $3, $4, $5, $6);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_rows_batch;
