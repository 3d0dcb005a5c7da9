CREATE TABLE _loaders_watermarks (
	mart STRING NOT NULL,
	target_table STRING,
	cursor_column STRING,
	value STRING,
	value_type STRING,
	updated_at TIMESTAMP_NTZ,
	PRIMARY KEY (mart)
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
CREATE TABLE _loaders_runs (
	run_id STRING NOT NULL,
	mart STRING,
	strategy STRING,
	target_table STRING,
	started_at TIMESTAMP_NTZ,
	finished_at TIMESTAMP_NTZ,
	status STRING,
	rows_in BIGINT,
	inserted BIGINT,
	updated BIGINT,
	deleted BIGINT,
	closed BIGINT,
	unchanged BIGINT,
	watermark_before STRING,
	watermark_after STRING,
	error STRING,
	batch_key STRING,
	checks STRING,
	PRIMARY KEY (run_id)
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
CREATE TABLE _loaders_batches (
	mart STRING NOT NULL,
	batch_key STRING NOT NULL,
	run_id STRING,
	PRIMARY KEY (mart, batch_key)
) USING DELTA
TBLPROPERTIES('delta.feature.allowColumnDefaults' = 'enabled');
