CREATE TABLE _loaders_watermarks (
	mart VARCHAR(255) NOT NULL,
	target_table VARCHAR(512),
	cursor_column VARCHAR(255),
	value VARCHAR,
	value_type VARCHAR(32),
	updated_at TIMESTAMP(6)
);
CREATE TABLE _loaders_runs (
	run_id VARCHAR(36) NOT NULL,
	mart VARCHAR(255),
	strategy VARCHAR(32),
	target_table VARCHAR(512),
	started_at TIMESTAMP(6),
	finished_at TIMESTAMP(6),
	status VARCHAR(16),
	rows_in BIGINT,
	inserted BIGINT,
	updated BIGINT,
	deleted BIGINT,
	closed BIGINT,
	unchanged BIGINT,
	watermark_before VARCHAR,
	watermark_after VARCHAR,
	error VARCHAR,
	batch_key VARCHAR(512),
	checks VARCHAR
);
CREATE TABLE _loaders_batches (
	mart VARCHAR(255) NOT NULL,
	batch_key VARCHAR(500) NOT NULL,
	run_id VARCHAR(36)
);
