CREATE TABLE `_loaders_watermarks` (
	`mart` STRING(255) NOT NULL,
	`target_table` STRING(512),
	`cursor_column` STRING(255),
	`value` STRING,
	`value_type` STRING(32),
	`updated_at` DATETIME
);
CREATE TABLE `_loaders_runs` (
	`run_id` STRING(36) NOT NULL,
	`mart` STRING(255),
	`strategy` STRING(32),
	`target_table` STRING(512),
	`started_at` DATETIME,
	`finished_at` DATETIME,
	`status` STRING(16),
	`rows_in` INT64,
	`inserted` INT64,
	`updated` INT64,
	`deleted` INT64,
	`closed` INT64,
	`unchanged` INT64,
	`watermark_before` STRING,
	`watermark_after` STRING,
	`error` STRING,
	`batch_key` STRING(512),
	`checks` STRING
);
CREATE TABLE `_loaders_batches` (
	`mart` STRING(255) NOT NULL,
	`batch_key` STRING(500) NOT NULL,
	`run_id` STRING(36)
);
