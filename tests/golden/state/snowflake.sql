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
