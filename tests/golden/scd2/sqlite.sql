-- case: load_time
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
FROM g_scd2_load_time, _loaders_stage
WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = 1 AND g_scd2_load_time.name IS NOT _loaders_stage.name AND ? <= g_scd2_load_time.valid_from;
UPDATE g_scd2_load_time SET valid_to=?, is_current=0 FROM _loaders_stage WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = 1 AND g_scd2_load_time.name IS NOT _loaders_stage.name;
UPDATE g_scd2_load_time SET updated_at=_loaders_stage.updated_at, op=_loaders_stage.op, seq=_loaders_stage.seq FROM _loaders_stage WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = 1 AND (g_scd2_load_time.updated_at IS NOT _loaders_stage.updated_at OR g_scd2_load_time.op IS NOT _loaders_stage.op OR g_scd2_load_time.seq IS NOT _loaders_stage.seq);
INSERT INTO g_scd2_load_time (id, name, updated_at, op, seq, valid_from, valid_to, is_current) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, ? AS anon_1, NULL AS valid_to, 1 AS is_current
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd2_load_time
WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = 1));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;

-- case: effective_from
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
WHERE _loaders_stage.updated_at IS NULL;
SELECT count(*) AS count_1
FROM g_scd2_effective_from, _loaders_stage
WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = 1 AND (g_scd2_effective_from.name IS NOT _loaders_stage.name OR g_scd2_effective_from.op IS NOT _loaders_stage.op OR g_scd2_effective_from.seq IS NOT _loaders_stage.seq) AND _loaders_stage.updated_at <= g_scd2_effective_from.valid_from;
UPDATE g_scd2_effective_from SET valid_to=_loaders_stage.updated_at, is_current=0 FROM _loaders_stage WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = 1 AND (g_scd2_effective_from.name IS NOT _loaders_stage.name OR g_scd2_effective_from.op IS NOT _loaders_stage.op OR g_scd2_effective_from.seq IS NOT _loaders_stage.seq);
UPDATE g_scd2_effective_from SET valid_to=?, is_current=0 WHERE g_scd2_effective_from.is_current = 1 AND NOT (EXISTS (SELECT *
FROM _loaders_stage
WHERE _loaders_stage.id = g_scd2_effective_from.id));
UPDATE g_scd2_effective_from SET updated_at=_loaders_stage.updated_at FROM _loaders_stage WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = 1 AND g_scd2_effective_from.updated_at IS NOT _loaders_stage.updated_at;
INSERT INTO g_scd2_effective_from (id, name, updated_at, op, seq, valid_from, valid_to, is_current) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, CASE WHEN ((SELECT max(prev.valid_to) AS max_1
FROM g_scd2_effective_from AS prev
WHERE prev.id = _loaders_stage.id) > _loaders_stage.updated_at) THEN (SELECT max(prev.valid_to) AS max_1
FROM g_scd2_effective_from AS prev
WHERE prev.id = _loaders_stage.id) ELSE _loaders_stage.updated_at END AS anon_1, NULL AS valid_to, 1 AS is_current
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd2_effective_from
WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = 1));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
DROP TABLE IF EXISTS _loaders_stage;
