-- case: load_time
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s::INTEGER ORDER BY n DESC
 LIMIT %(param_1)s::INTEGER;
SELECT count(*) AS count_1
FROM g_scd2_load_time, _loaders_stage
WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = true AND g_scd2_load_time.name IS DISTINCT FROM _loaders_stage.name AND %(param_1)s::TIMESTAMP WITHOUT TIME ZONE <= g_scd2_load_time.valid_from;
UPDATE g_scd2_load_time SET valid_to=%(valid_to)s::TIMESTAMP WITHOUT TIME ZONE, is_current=false FROM _loaders_stage WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = true AND g_scd2_load_time.name IS DISTINCT FROM _loaders_stage.name;
UPDATE g_scd2_load_time SET updated_at=_loaders_stage.updated_at, op=_loaders_stage.op, seq=_loaders_stage.seq FROM _loaders_stage WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = true AND (g_scd2_load_time.updated_at IS DISTINCT FROM _loaders_stage.updated_at OR g_scd2_load_time.op IS DISTINCT FROM _loaders_stage.op OR g_scd2_load_time.seq IS DISTINCT FROM _loaders_stage.seq);
INSERT INTO g_scd2_load_time (id, name, updated_at, op, seq, valid_from, valid_to, is_current) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, %(param_1)s::TIMESTAMP WITHOUT TIME ZONE AS anon_1, NULL AS valid_to, true AS is_current
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd2_load_time
WHERE g_scd2_load_time.id = _loaders_stage.id AND g_scd2_load_time.is_current = true));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;

-- case: effective_from
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s::INTEGER ORDER BY n DESC
 LIMIT %(param_1)s::INTEGER;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
SELECT count(*) AS count_1
FROM g_scd2_effective_from, _loaders_stage
WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = true AND (g_scd2_effective_from.name IS DISTINCT FROM _loaders_stage.name OR g_scd2_effective_from.op IS DISTINCT FROM _loaders_stage.op OR g_scd2_effective_from.seq IS DISTINCT FROM _loaders_stage.seq) AND _loaders_stage.updated_at <= g_scd2_effective_from.valid_from;
UPDATE g_scd2_effective_from SET valid_to=_loaders_stage.updated_at, is_current=false FROM _loaders_stage WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = true AND (g_scd2_effective_from.name IS DISTINCT FROM _loaders_stage.name OR g_scd2_effective_from.op IS DISTINCT FROM _loaders_stage.op OR g_scd2_effective_from.seq IS DISTINCT FROM _loaders_stage.seq);
UPDATE g_scd2_effective_from SET valid_to=%(valid_to)s::TIMESTAMP WITHOUT TIME ZONE, is_current=false WHERE g_scd2_effective_from.is_current = true AND NOT (EXISTS (SELECT *
FROM _loaders_stage
WHERE _loaders_stage.id = g_scd2_effective_from.id));
UPDATE g_scd2_effective_from SET updated_at=_loaders_stage.updated_at FROM _loaders_stage WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = true AND g_scd2_effective_from.updated_at IS DISTINCT FROM _loaders_stage.updated_at;
INSERT INTO g_scd2_effective_from (id, name, updated_at, op, seq, valid_from, valid_to, is_current) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, CASE WHEN ((SELECT max(prev.valid_to) AS max_1
FROM g_scd2_effective_from AS prev
WHERE prev.id = _loaders_stage.id) > _loaders_stage.updated_at) THEN (SELECT max(prev.valid_to) AS max_1
FROM g_scd2_effective_from AS prev
WHERE prev.id = _loaders_stage.id) ELSE _loaders_stage.updated_at END AS anon_1, NULL AS valid_to, true AS is_current
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd2_effective_from
WHERE g_scd2_effective_from.id = _loaders_stage.id AND g_scd2_effective_from.is_current = true));
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;
