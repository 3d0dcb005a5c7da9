-- case: hard
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
CREATE INDEX ix__loaders_stage_batch ON _loaders_stage_batch (id);
ANALYZE temp._loaders_stage_batch;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) OR _loaders_stage_batch.op IS NULL) THEN ? END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (?, ?)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
DELETE FROM g_cdc_hard WHERE (g_cdc_hard.id) IN (SELECT _loaders_stage_batch.id
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?));
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view');
PRAGMA main.table_xinfo("g_cdc_hard");
PRAGMA main.index_list("g_cdc_hard");
PRAGMA main.index_info("ix_loaders_aa9f3f7f18");
PRAGMA main.index_list("g_cdc_hard");
PRAGMA main.index_info("ix_loaders_aa9f3f7f18");
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view');
SELECT count(*) AS count_1
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) AND NOT (EXISTS (SELECT *
FROM g_cdc_hard
WHERE g_cdc_hard.id = _loaders_stage_batch.id));
INSERT INTO g_cdc_hard (id, name, updated_at, seq) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at, seq = excluded.seq WHERE g_cdc_hard.name IS NOT excluded.name OR g_cdc_hard.updated_at IS NOT excluded.updated_at OR g_cdc_hard.seq IS NOT excluded.seq;
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = ?;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (?, ?, ?, ?, ?, ?);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;

-- case: soft
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
CREATE INDEX ix__loaders_stage_batch ON _loaders_stage_batch (id);
ANALYZE temp._loaders_stage_batch;
SELECT count(*) AS count_1
FROM _loaders_stage_batch;
SELECT count(CASE WHEN ((_loaders_stage_batch.op NOT IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) OR _loaders_stage_batch.op IS NULL) THEN ? END) AS count_1, max(CASE WHEN (_loaders_stage_batch.op IN (?, ?)) THEN _loaders_stage_batch.seq END) AS max_1
FROM _loaders_stage_batch;
UPDATE g_cdc_soft SET _deleted=1 FROM _loaders_stage_batch WHERE g_cdc_soft.id = _loaders_stage_batch.id AND _loaders_stage_batch.op IN (?, ?) AND g_cdc_soft._deleted IS NOT 1;
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view');
PRAGMA main.table_xinfo("g_cdc_soft");
PRAGMA main.index_list("g_cdc_soft");
PRAGMA main.index_info("ix_loaders_44cead1d8e");
PRAGMA main.index_list("g_cdc_soft");
PRAGMA main.index_info("ix_loaders_44cead1d8e");
SELECT sql FROM  (SELECT * FROM sqlite_master UNION ALL   SELECT * FROM sqlite_temp_master) WHERE name = ? AND type in ('table', 'view');
SELECT count(*) AS count_1
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) AND NOT (EXISTS (SELECT *
FROM g_cdc_soft
WHERE g_cdc_soft.id = _loaders_stage_batch.id));
INSERT INTO g_cdc_soft (id, name, updated_at, seq, _deleted) SELECT _loaders_stage_batch.id, _loaders_stage_batch.name, _loaders_stage_batch.updated_at, _loaders_stage_batch.seq, 0 AS _deleted
FROM _loaders_stage_batch
WHERE _loaders_stage_batch.op IN (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at, seq = excluded.seq, _deleted = excluded._deleted WHERE g_cdc_soft.name IS NOT excluded.name OR g_cdc_soft.updated_at IS NOT excluded.updated_at OR g_cdc_soft.seq IS NOT excluded.seq OR g_cdc_soft._deleted IS NOT excluded._deleted;
SELECT max(_loaders_stage_batch.seq) AS max_1
FROM _loaders_stage_batch;
DELETE FROM _loaders_watermarks WHERE _loaders_watermarks.mart = ?;
INSERT INTO _loaders_watermarks (mart, target_table, cursor_column, value, value_type, updated_at) VALUES (?, ?, ?, ?, ?, ?);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
DROP TABLE IF EXISTS _loaders_stage_batch;
