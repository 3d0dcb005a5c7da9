-- case: scd1
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
UPDATE g_scd1_scd1, _loaders_stage SET g_scd1_scd1.name=_loaders_stage.name, g_scd1_scd1.updated_at=_loaders_stage.updated_at, g_scd1_scd1.op=_loaders_stage.op, g_scd1_scd1.seq=_loaders_stage.seq WHERE g_scd1_scd1.id = _loaders_stage.id AND (NOT (g_scd1_scd1.name <=> _loaders_stage.name) OR NOT (g_scd1_scd1.updated_at <=> _loaders_stage.updated_at) OR NOT (g_scd1_scd1.op <=> _loaders_stage.op) OR NOT (g_scd1_scd1.seq <=> _loaders_stage.seq));
INSERT INTO g_scd1_scd1 (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd1_scd1
WHERE g_scd1_scd1.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
DROP TEMPORARY TABLE IF EXISTS _loaders_stage;
