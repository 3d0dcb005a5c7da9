-- case: scd1
-- the first load's table:
CREATE TABLE g_scd1_scd1 (
	id BIGINT,
	name VARCHAR,
	updated_at TIMESTAMP(6),
	op VARCHAR,
	seq BIGINT
);
-- the second load (a plan, so it ends in ROLLBACK):
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
WHERE _loaders_stage.id IS NULL;
SELECT _loaders_stage.id, count(*) AS n
FROM _loaders_stage GROUP BY _loaders_stage.id
HAVING count(*) > %(count_1)s ORDER BY n DESC
LIMIT %(param_1)s;
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE NOT (EXISTS (SELECT *
FROM g_scd1_scd1
WHERE g_scd1_scd1.id = _loaders_stage.id));
START TRANSACTION;
MERGE INTO g_scd1_scd1 AS t USING _loaders_stage AS s
ON t.id = s.id
WHEN MATCHED AND (t.name IS DISTINCT FROM s.name OR t.updated_at IS DISTINCT FROM s.updated_at OR t.op IS DISTINCT FROM s.op OR t.seq IS DISTINCT FROM s.seq) THEN UPDATE SET name = s.name, updated_at = s.updated_at, op = s.op, seq = s.seq
WHEN NOT MATCHED THEN INSERT (id, name, updated_at, op, seq) VALUES (s.id, s.name, s.updated_at, s.op, s.seq);
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
