-- case: day
-- the first load's table:
CREATE TABLE g_overwrite_window_day (
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
WHERE _loaders_stage.updated_at IS NULL;
START TRANSACTION;
DELETE FROM g_overwrite_window_day WHERE CAST(g_overwrite_window_day.updated_at AS DATE) IN (SELECT DISTINCT CAST(_loaders_stage.updated_at AS DATE) AS updated_at
FROM _loaders_stage);
INSERT INTO g_overwrite_window_day (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
