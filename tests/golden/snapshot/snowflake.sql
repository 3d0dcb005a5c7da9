-- case: retain
-- the first load's tables:
CREATE TABLE _loaders_watermarks (
	mart VARCHAR(255) NOT NULL,
	target_table VARCHAR(512),
	cursor_column VARCHAR(255),
	value TEXT,
	value_type VARCHAR(32),
	updated_at datetime,
	PRIMARY KEY (mart)
);
CREATE TABLE _loaders_runs (
	run_id VARCHAR(36) NOT NULL,
	mart VARCHAR(255),
	strategy VARCHAR(32),
	target_table VARCHAR(512),
	started_at datetime,
	finished_at datetime,
	status VARCHAR(16),
	rows_in BIGINT,
	inserted BIGINT,
	updated BIGINT,
	deleted BIGINT,
	closed BIGINT,
	unchanged BIGINT,
	watermark_before TEXT,
	watermark_after TEXT,
	error TEXT,
	batch_key VARCHAR(512),
	checks TEXT,
	PRIMARY KEY (run_id)
);
CREATE TABLE _loaders_batches (
	mart VARCHAR(255) NOT NULL,
	batch_key VARCHAR(500) NOT NULL,
	run_id VARCHAR(36),
	PRIMARY KEY (mart, batch_key)
);
CREATE TABLE g_snapshot_retain (
	id BIGINT,
	name TEXT,
	updated_at datetime,
	op TEXT,
	seq BIGINT,
	snapshot_date DATE
);
-- the second load (a plan, so it ends in ROLLBACK):
CREATE TEMPORARY TABLE _loaders_stage (
	id BIGINT,
	name TEXT,
	updated_at datetime,
	op TEXT,
	seq BIGINT
);
INSERT INTO _loaders_stage (id, name, updated_at, op, seq) VALUES (%(id)s, %(name)s, %(updated_at)s, %(op)s, %(seq)s);
BEGIN TRANSACTION;
DELETE FROM g_snapshot_retain WHERE g_snapshot_retain.snapshot_date = %(param_1)s;
INSERT INTO g_snapshot_retain (id, name, updated_at, op, seq, snapshot_date) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq, %(param_1)s AS snapshot_date
FROM _loaders_stage;
SELECT DISTINCT g_snapshot_retain.snapshot_date
FROM g_snapshot_retain ORDER BY g_snapshot_retain.snapshot_date DESC
 LIMIT %(param_1)s;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES (%(run_id)s, %(mart)s, %(strategy)s, %(target_table)s, %(started_at)s, %(finished_at)s, %(status)s, %(rows_in)s, %(inserted)s, %(updated)s, %(deleted)s, %(closed)s, %(unchanged)s, %(watermark_before)s, %(watermark_after)s, %(error)s, %(batch_key)s, %(checks)s);
ROLLBACK;
DROP TABLE IF EXISTS _loaders_stage;
