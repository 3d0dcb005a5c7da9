-- case: cursor
-- the first load's table:
CREATE TABLE `g_append_cursor` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
);
-- the second load (a plan, so it ends in ROLLBACK):
SELECT `_loaders_watermarks`.`value`, `_loaders_watermarks`.`value_type`, `_loaders_watermarks`.`cursor_column`
FROM `_loaders_watermarks`
WHERE `_loaders_watermarks`.`mart` = %(mart_1:STRING)s;
CREATE TEMPORARY TABLE `_loaders_stage` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
);
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`updated_at` IS NULL;
DELETE FROM `_loaders_stage` WHERE `_loaders_stage`.`updated_at` <= %(param_1:DATETIME)s;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`;
BEGIN TRANSACTION;
INSERT INTO `g_append_cursor` (`id`, `name`, `updated_at`, `op`, `seq`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`
FROM `_loaders_stage`;
SELECT max(`_loaders_stage`.`updated_at`) AS `max_1`
FROM `_loaders_stage`;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: lookback
-- the first load's table:
CREATE TABLE `g_append_lookback` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
);
-- the second load (a plan, so it ends in ROLLBACK):
SELECT `_loaders_watermarks`.`value`, `_loaders_watermarks`.`value_type`, `_loaders_watermarks`.`cursor_column`
FROM `_loaders_watermarks`
WHERE `_loaders_watermarks`.`mart` = %(mart_1:STRING)s;
CREATE TEMPORARY TABLE `_loaders_stage` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
);
INSERT INTO `_loaders_stage` (`id`, `name`, `updated_at`, `op`, `seq`) VALUES (%(id:INT64)s, %(name:STRING)s, %(updated_at:DATETIME)s, %(op:STRING)s, %(seq:INT64)s);
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`updated_at` IS NULL;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`id` IS NULL;
DELETE FROM `_loaders_stage` WHERE `_loaders_stage`.`updated_at` <= %(param_1:DATETIME)s;
SELECT `_loaders_stage`.`id`, count(*) AS `n`
FROM `_loaders_stage` GROUP BY `_loaders_stage`.`id`
HAVING count(*) > %(count_1:INT64)s ORDER BY `n` DESC
 LIMIT %(param_1:INT64)s;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`;
BEGIN TRANSACTION;
INSERT INTO `g_append_lookback` (`id`, `name`, `updated_at`, `op`, `seq`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`
FROM `_loaders_stage`
WHERE NOT (EXISTS (SELECT *
FROM `g_append_lookback`
WHERE `g_append_lookback`.`id` = `_loaders_stage`.`id`));
SELECT max(`_loaders_stage`.`updated_at`) AS `max_1`
FROM `_loaders_stage`;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: query_in_warehouse
-- the first load's table:
CREATE TABLE `g_append_query_in_warehouse` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
);
-- the second load (a plan, so it ends in ROLLBACK):
SELECT `_loaders_watermarks`.`value`, `_loaders_watermarks`.`value_type`, `_loaders_watermarks`.`cursor_column`
FROM `_loaders_watermarks`
WHERE `_loaders_watermarks`.`mart` = %(mart_1:STRING)s;
CREATE TEMPORARY TABLE `_loaders_stage` AS SELECT id, name, updated_at, op, seq FROM raw.customers WHERE %(watermark:DATETIME)s IS NULL OR updated_at > %(watermark:DATETIME)s;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`updated_at` IS NULL;
DELETE FROM `_loaders_stage` WHERE `_loaders_stage`.`updated_at` <= %(param_1:DATETIME)s;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`;
BEGIN TRANSACTION;
INSERT INTO `g_append_query_in_warehouse` (`id`, `name`, `updated_at`, `op`, `seq`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`
FROM `_loaders_stage`;
SELECT max(`_loaders_stage`.`updated_at`) AS `max_1`
FROM `_loaders_stage`;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;
