-- case: scd1
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
UPDATE g_scd1_scd1 SET name=_loaders_stage.name, updated_at=_loaders_stage.updated_at, op=_loaders_stage.op, seq=_loaders_stage.seq FROM _loaders_stage WHERE g_scd1_scd1.id = _loaders_stage.id AND (g_scd1_scd1.name IS NOT _loaders_stage.name OR g_scd1_scd1.updated_at IS NOT _loaders_stage.updated_at OR g_scd1_scd1.op IS NOT _loaders_stage.op OR g_scd1_scd1.seq IS NOT _loaders_stage.seq);
INSERT INTO g_scd1_scd1 (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd1_scd1
WHERE g_scd1_scd1.id = _loaders_stage.id));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
