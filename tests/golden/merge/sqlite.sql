-- case: auto
BEGIN IMMEDIATE;
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
UPDATE g_merge_auto SET name=_loaders_stage.name, updated_at=_loaders_stage.updated_at, op=_loaders_stage.op, seq=_loaders_stage.seq FROM _loaders_stage WHERE g_merge_auto.id = _loaders_stage.id AND (g_merge_auto.name IS NOT _loaders_stage.name OR g_merge_auto.updated_at IS NOT _loaders_stage.updated_at OR g_merge_auto.op IS NOT _loaders_stage.op OR g_merge_auto.seq IS NOT _loaders_stage.seq);
INSERT INTO g_merge_auto (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_auto
WHERE g_merge_auto.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;

-- case: delete_missing
BEGIN IMMEDIATE;
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
DELETE FROM g_merge_delete_missing WHERE NOT (EXISTS (SELECT *
FROM _loaders_stage
WHERE _loaders_stage.id = g_merge_delete_missing.id));
UPDATE g_merge_delete_missing SET name=_loaders_stage.name, updated_at=_loaders_stage.updated_at, op=_loaders_stage.op, seq=_loaders_stage.seq FROM _loaders_stage WHERE g_merge_delete_missing.id = _loaders_stage.id AND (g_merge_delete_missing.name IS NOT _loaders_stage.name OR g_merge_delete_missing.updated_at IS NOT _loaders_stage.updated_at OR g_merge_delete_missing.op IS NOT _loaders_stage.op OR g_merge_delete_missing.seq IS NOT _loaders_stage.seq);
INSERT INTO g_merge_delete_missing (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_delete_missing
WHERE g_merge_delete_missing.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;

-- case: update_insert
BEGIN IMMEDIATE;
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
UPDATE g_merge_update_insert SET name=_loaders_stage.name, updated_at=_loaders_stage.updated_at, op=_loaders_stage.op, seq=_loaders_stage.seq FROM _loaders_stage WHERE g_merge_update_insert.id = _loaders_stage.id AND (g_merge_update_insert.name IS NOT _loaders_stage.name OR g_merge_update_insert.updated_at IS NOT _loaders_stage.updated_at OR g_merge_update_insert.op IS NOT _loaders_stage.op OR g_merge_update_insert.seq IS NOT _loaders_stage.seq);
INSERT INTO g_merge_update_insert (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_update_insert
WHERE g_merge_update_insert.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;

-- case: delete_insert
BEGIN IMMEDIATE;
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
DELETE FROM g_merge_delete_insert WHERE (g_merge_delete_insert.id) IN (SELECT _loaders_stage.id
FROM _loaders_stage);
INSERT INTO g_merge_delete_insert (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;

-- case: merge
-- error: UnsupportedByTarget: mart g_merge_merge: `method: merge` needs MERGE INTO, which sqlite lacks; use `method: auto`, `update_insert` or `delete_insert`

-- case: upsert
BEGIN IMMEDIATE;
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > ? ORDER BY n DESC
 LIMIT ? OFFSET ?;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_upsert
WHERE g_merge_upsert.id = _loaders_stage.id));
INSERT INTO g_merge_upsert (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE 1 = 1 ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at, op = excluded.op, seq = excluded.seq WHERE g_merge_upsert.name IS NOT excluded.name OR g_merge_upsert.updated_at IS NOT excluded.updated_at OR g_merge_upsert.op IS NOT excluded.op OR g_merge_upsert.seq IS NOT excluded.seq;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
