-- case: auto
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	updated_at DATETIME(6),
	op LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	seq BIGINT,
	KEY ix__loaders_stage (id)
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s ORDER BY n DESC
 LIMIT %(param_1)s;
UPDATE g_merge_auto, _loaders_stage SET g_merge_auto.name=_loaders_stage.name, g_merge_auto.updated_at=_loaders_stage.updated_at, g_merge_auto.op=_loaders_stage.op, g_merge_auto.seq=_loaders_stage.seq WHERE g_merge_auto.id = _loaders_stage.id AND (NOT (g_merge_auto.name <=> _loaders_stage.name) OR NOT (g_merge_auto.updated_at <=> _loaders_stage.updated_at) OR NOT (g_merge_auto.op <=> _loaders_stage.op) OR NOT (g_merge_auto.seq <=> _loaders_stage.seq));
INSERT INTO g_merge_auto (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_auto
WHERE g_merge_auto.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
DROP TEMPORARY TABLE IF EXISTS _loaders_stage;

-- case: delete_missing
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	updated_at DATETIME(6),
	op LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	seq BIGINT,
	KEY ix__loaders_stage (id)
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s ORDER BY n DESC
 LIMIT %(param_1)s;
DELETE FROM g_merge_delete_missing WHERE NOT (EXISTS (SELECT *
FROM _loaders_stage
WHERE _loaders_stage.id = g_merge_delete_missing.id));
UPDATE g_merge_delete_missing, _loaders_stage SET g_merge_delete_missing.name=_loaders_stage.name, g_merge_delete_missing.updated_at=_loaders_stage.updated_at, g_merge_delete_missing.op=_loaders_stage.op, g_merge_delete_missing.seq=_loaders_stage.seq WHERE g_merge_delete_missing.id = _loaders_stage.id AND (NOT (g_merge_delete_missing.name <=> _loaders_stage.name) OR NOT (g_merge_delete_missing.updated_at <=> _loaders_stage.updated_at) OR NOT (g_merge_delete_missing.op <=> _loaders_stage.op) OR NOT (g_merge_delete_missing.seq <=> _loaders_stage.seq));
INSERT INTO g_merge_delete_missing (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_delete_missing
WHERE g_merge_delete_missing.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
DROP TEMPORARY TABLE IF EXISTS _loaders_stage;

-- case: update_insert
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	updated_at DATETIME(6),
	op LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	seq BIGINT,
	KEY ix__loaders_stage (id)
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s ORDER BY n DESC
 LIMIT %(param_1)s;
UPDATE g_merge_update_insert, _loaders_stage SET g_merge_update_insert.name=_loaders_stage.name, g_merge_update_insert.updated_at=_loaders_stage.updated_at, g_merge_update_insert.op=_loaders_stage.op, g_merge_update_insert.seq=_loaders_stage.seq WHERE g_merge_update_insert.id = _loaders_stage.id AND (NOT (g_merge_update_insert.name <=> _loaders_stage.name) OR NOT (g_merge_update_insert.updated_at <=> _loaders_stage.updated_at) OR NOT (g_merge_update_insert.op <=> _loaders_stage.op) OR NOT (g_merge_update_insert.seq <=> _loaders_stage.seq));
INSERT INTO g_merge_update_insert (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_update_insert
WHERE g_merge_update_insert.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
DROP TEMPORARY TABLE IF EXISTS _loaders_stage;

-- case: delete_insert
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	updated_at DATETIME(6),
	op LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	seq BIGINT,
	KEY ix__loaders_stage (id)
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s ORDER BY n DESC
 LIMIT %(param_1)s;
DELETE FROM g_merge_delete_insert USING g_merge_delete_insert, _loaders_stage WHERE g_merge_delete_insert.id = _loaders_stage.id;
INSERT INTO g_merge_delete_insert (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
DROP TEMPORARY TABLE IF EXISTS _loaders_stage;

-- case: merge
-- error: UnsupportedByTarget: mart g_merge_merge: `method: merge` needs MERGE INTO, which mysql lacks; use `method: auto`, `update_insert` or `delete_insert`

-- case: upsert
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	updated_at DATETIME(6),
	op LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	seq BIGINT,
	KEY ix__loaders_stage (id)
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s ORDER BY n DESC
 LIMIT %(param_1)s;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_merge_upsert
WHERE g_merge_upsert.id = _loaders_stage.id));
INSERT INTO g_merge_upsert (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage ON DUPLICATE KEY UPDATE name = VALUES(name), updated_at = VALUES(updated_at), op = VALUES(op), seq = VALUES(seq);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
DROP TEMPORARY TABLE IF EXISTS _loaders_stage;
