-- case: load_time
-- the first load's table:
CREATE TABLE `g_scd2_load_time` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64,
	`valid_from` DATETIME,
	`valid_to` DATETIME,
	`is_current` BOOL
);
-- the second load (a plan, so it ends in ROLLBACK):
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
WHERE `_loaders_stage`.`id` IS NULL;
SELECT `_loaders_stage`.`id`, count(*) AS `n`
FROM `_loaders_stage` GROUP BY `_loaders_stage`.`id`
HAVING count(*) > %(count_1:INT64)s ORDER BY `n` DESC
 LIMIT %(param_1:INT64)s;
SELECT count(*) AS `count_1`
FROM `g_scd2_load_time`, `_loaders_stage`
WHERE `g_scd2_load_time`.`id` = `_loaders_stage`.`id` AND `g_scd2_load_time`.`is_current` = true AND `g_scd2_load_time`.`name` IS DISTINCT FROM `_loaders_stage`.`name` AND %(param_1:DATETIME)s <= `g_scd2_load_time`.`valid_from`;
BEGIN TRANSACTION;
UPDATE `g_scd2_load_time` SET `valid_to`=%(valid_to:DATETIME)s, `is_current`=false FROM `_loaders_stage` WHERE `g_scd2_load_time`.`id` = `_loaders_stage`.`id` AND `g_scd2_load_time`.`is_current` = true AND `g_scd2_load_time`.`name` IS DISTINCT FROM `_loaders_stage`.`name`;
UPDATE `g_scd2_load_time` SET `updated_at`=`_loaders_stage`.`updated_at`, `op`=`_loaders_stage`.`op`, `seq`=`_loaders_stage`.`seq` FROM `_loaders_stage` WHERE `g_scd2_load_time`.`id` = `_loaders_stage`.`id` AND `g_scd2_load_time`.`is_current` = true AND (`g_scd2_load_time`.`updated_at` IS DISTINCT FROM `_loaders_stage`.`updated_at` OR `g_scd2_load_time`.`op` IS DISTINCT FROM `_loaders_stage`.`op` OR `g_scd2_load_time`.`seq` IS DISTINCT FROM `_loaders_stage`.`seq`);
INSERT INTO `g_scd2_load_time` (`id`, `name`, `updated_at`, `op`, `seq`, `valid_from`, `valid_to`, `is_current`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`, %(param_1:DATETIME)s AS `anon_1`, NULL AS `valid_to`, true AS `is_current`
FROM `_loaders_stage`
WHERE NOT (EXISTS (SELECT *
FROM `g_scd2_load_time`
WHERE `g_scd2_load_time`.`id` = `_loaders_stage`.`id` AND `g_scd2_load_time`.`is_current` = true));
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: effective_from
-- the first load's table:
CREATE TABLE `g_scd2_effective_from` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64,
	`valid_from` DATETIME,
	`valid_to` DATETIME,
	`is_current` BOOL
);
-- the second load (a plan, so it ends in ROLLBACK):
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
WHERE `_loaders_stage`.`id` IS NULL;
SELECT `_loaders_stage`.`id`, count(*) AS `n`
FROM `_loaders_stage` GROUP BY `_loaders_stage`.`id`
HAVING count(*) > %(count_1:INT64)s ORDER BY `n` DESC
 LIMIT %(param_1:INT64)s;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`updated_at` IS NULL;
SELECT count(*) AS `count_1`
FROM `g_scd2_effective_from`, `_loaders_stage`
WHERE `g_scd2_effective_from`.`id` = `_loaders_stage`.`id` AND `g_scd2_effective_from`.`is_current` = true AND (`g_scd2_effective_from`.`name` IS DISTINCT FROM `_loaders_stage`.`name` OR `g_scd2_effective_from`.`op` IS DISTINCT FROM `_loaders_stage`.`op` OR `g_scd2_effective_from`.`seq` IS DISTINCT FROM `_loaders_stage`.`seq`) AND `_loaders_stage`.`updated_at` <= `g_scd2_effective_from`.`valid_from`;
BEGIN TRANSACTION;
UPDATE `g_scd2_effective_from` SET `valid_to`=`_loaders_stage`.`updated_at`, `is_current`=false FROM `_loaders_stage` WHERE `g_scd2_effective_from`.`id` = `_loaders_stage`.`id` AND `g_scd2_effective_from`.`is_current` = true AND (`g_scd2_effective_from`.`name` IS DISTINCT FROM `_loaders_stage`.`name` OR `g_scd2_effective_from`.`op` IS DISTINCT FROM `_loaders_stage`.`op` OR `g_scd2_effective_from`.`seq` IS DISTINCT FROM `_loaders_stage`.`seq`);
UPDATE `g_scd2_effective_from` SET `valid_to`=%(valid_to:DATETIME)s, `is_current`=false WHERE `g_scd2_effective_from`.`is_current` = true AND NOT (EXISTS (SELECT *
FROM `_loaders_stage`
WHERE `_loaders_stage`.`id` = `g_scd2_effective_from`.`id`));
UPDATE `g_scd2_effective_from` SET `updated_at`=`_loaders_stage`.`updated_at` FROM `_loaders_stage` WHERE `g_scd2_effective_from`.`id` = `_loaders_stage`.`id` AND `g_scd2_effective_from`.`is_current` = true AND `g_scd2_effective_from`.`updated_at` IS DISTINCT FROM `_loaders_stage`.`updated_at`;
INSERT INTO `g_scd2_effective_from` (`id`, `name`, `updated_at`, `op`, `seq`, `valid_from`, `valid_to`, `is_current`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`, CASE WHEN ((SELECT max(`prev`.`valid_to`) AS `max_1`
FROM `g_scd2_effective_from` AS `prev`
WHERE `prev`.`id` = `_loaders_stage`.`id`) > `_loaders_stage`.`updated_at`) THEN (SELECT max(`prev`.`valid_to`) AS `max_1`
FROM `g_scd2_effective_from` AS `prev`
WHERE `prev`.`id` = `_loaders_stage`.`id`) ELSE `_loaders_stage`.`updated_at` END AS `anon_1`, NULL AS `valid_to`, true AS `is_current`
FROM `_loaders_stage`
WHERE NOT (EXISTS (SELECT *
FROM `g_scd2_effective_from`
WHERE `g_scd2_effective_from`.`id` = `_loaders_stage`.`id` AND `g_scd2_effective_from`.`is_current` = true));
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;
