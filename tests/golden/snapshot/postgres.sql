-- case: retain
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name TEXT,
	updated_at TIMESTAMP WITHOUT TIME ZONE,
	op TEXT,
	seq BIGINT
);
ANALYZE _loaders_stage;
DELETE FROM g_snapshot_retain WHERE g_snapshot_retain.snapshot_date = %(param_1)s::DATE;
INSERT INTO g_snapshot_retain (id, name, updated_at, op, seq, snapshot_date) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, %(param_1)s::DATE AS snapshot_date
FROM _loaders_stage;
SELECT DISTINCT g_snapshot_retain.snapshot_date
FROM g_snapshot_retain ORDER BY g_snapshot_retain.snapshot_date DESC
 LIMIT %(param_1)s::INTEGER;
DELETE FROM g_snapshot_retain WHERE g_snapshot_retain.snapshot_date < %(param_1)s::DATE;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s::VARCHAR, %(mart)s::VARCHAR, %(strategy)s::VARCHAR, %(target_table)s::VARCHAR, %(started_at)s::TIMESTAMP WITHOUT TIME ZONE, %(finished_at)s::TIMESTAMP WITHOUT TIME ZONE, %(status)s::VARCHAR, %(rows_in)s::BIGINT, %(inserted)s::BIGINT, %(updated)s::BIGINT, %(deleted)s::BIGINT, %(closed)s::BIGINT, %(unchanged)s::BIGINT, %(watermark_before)s::VARCHAR, %(watermark_after)s::VARCHAR, %(error)s::VARCHAR, %(batch_key)s::VARCHAR, %(checks)s::VARCHAR);
DROP TABLE IF EXISTS _loaders_stage;
