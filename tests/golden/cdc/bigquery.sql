-- case: hard
-- the first load's table:
CREATE TABLE `g_cdc_hard` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
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
WHERE `_loaders_stage`.`seq` IS NULL;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`id` IS NULL AND (`_loaders_stage`.`op` NOT IN UNNEST(%(op_1:STRING)s));
DELETE FROM `_loaders_stage` WHERE `_loaders_stage`.`seq` < %(param_1:INT64)s OR `_loaders_stage`.`seq` = %(param_1:INT64)s AND (`_loaders_stage`.`op` NOT IN UNNEST(%(op_1:STRING)s));
SELECT `_loaders_stage`.`id`, `_loaders_stage`.`seq`, count(*) AS `n`
FROM `_loaders_stage` GROUP BY `_loaders_stage`.`id`, `_loaders_stage`.`seq`
HAVING count(*) > %(count_1:INT64)s ORDER BY `n` DESC
 LIMIT %(param_1:INT64)s;
CREATE TEMPORARY TABLE `_loaders_stage_batch` AS SELECT `ranked`.`id`, `ranked`.`name`, `ranked`.`updated_at`, `ranked`.`op`, `ranked`.`seq`
FROM (SELECT `_loaders_stage`.`id` AS `id`, `_loaders_stage`.`name` AS `name`, `_loaders_stage`.`updated_at` AS `updated_at`, `_loaders_stage`.`op` AS `op`, `_loaders_stage`.`seq` AS `seq`, row_number() OVER (PARTITION BY `_loaders_stage`.`id` ORDER BY `_loaders_stage`.`seq` DESC) AS `_rn`
FROM `_loaders_stage`) AS `ranked`
WHERE `ranked`.`_rn` = 1;
SELECT count(*) AS `count_1`
FROM `_loaders_stage_batch`;
SELECT count(CASE WHEN ((`_loaders_stage_batch`.`op` NOT IN UNNEST(%(op_1:STRING)s)) OR `_loaders_stage_batch`.`op` IS NULL) THEN %(param_1:INT64)s END) AS `count_1`, max(CASE WHEN (`_loaders_stage_batch`.`op` IN UNNEST(%(op_2:STRING)s)) THEN `_loaders_stage_batch`.`seq` END) AS `max_1`
FROM `_loaders_stage_batch`;
BEGIN TRANSACTION;
DELETE FROM `g_cdc_hard` WHERE EXISTS (SELECT *
FROM `_loaders_stage_batch`
WHERE `_loaders_stage_batch`.`id` = `g_cdc_hard`.`id` AND `_loaders_stage_batch`.`op` IN UNNEST(%(op_1:STRING)s));
UPDATE `g_cdc_hard` SET `name`=`_loaders_stage_batch`.`name`, `updated_at`=`_loaders_stage_batch`.`updated_at`, `seq`=`_loaders_stage_batch`.`seq` FROM `_loaders_stage_batch` WHERE `g_cdc_hard`.`id` = `_loaders_stage_batch`.`id` AND `_loaders_stage_batch`.`op` IN UNNEST(%(op_1:STRING)s) AND (`g_cdc_hard`.`name` IS DISTINCT FROM `_loaders_stage_batch`.`name` OR `g_cdc_hard`.`updated_at` IS DISTINCT FROM `_loaders_stage_batch`.`updated_at` OR `g_cdc_hard`.`seq` IS DISTINCT FROM `_loaders_stage_batch`.`seq`);
INSERT INTO `g_cdc_hard` (`id`, `name`, `updated_at`, `seq`) SELECT `_loaders_stage_batch`.`id`, `_loaders_stage_batch`.`name`, `_loaders_stage_batch`.`updated_at`, `_loaders_stage_batch`.`seq`
FROM `_loaders_stage_batch`
WHERE `_loaders_stage_batch`.`op` IN UNNEST(%(op_1:STRING)s) AND NOT (EXISTS (SELECT *
FROM `g_cdc_hard`
WHERE `g_cdc_hard`.`id` = `_loaders_stage_batch`.`id`));
SELECT max(`_loaders_stage_batch`.`seq`) AS `max_1`
FROM `_loaders_stage_batch`;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;
DROP TABLE IF EXISTS `_loaders_stage_batch`;

-- case: soft
-- the first load's table:
CREATE TABLE `g_cdc_soft` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`seq` INT64,
	`_deleted` BOOL
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
WHERE `_loaders_stage`.`seq` IS NULL;
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE `_loaders_stage`.`id` IS NULL AND (`_loaders_stage`.`op` NOT IN UNNEST(%(op_1:STRING)s));
DELETE FROM `_loaders_stage` WHERE `_loaders_stage`.`seq` < %(param_1:INT64)s OR `_loaders_stage`.`seq` = %(param_1:INT64)s AND (`_loaders_stage`.`op` NOT IN UNNEST(%(op_1:STRING)s));
SELECT `_loaders_stage`.`id`, `_loaders_stage`.`seq`, count(*) AS `n`
FROM `_loaders_stage` GROUP BY `_loaders_stage`.`id`, `_loaders_stage`.`seq`
HAVING count(*) > %(count_1:INT64)s ORDER BY `n` DESC
 LIMIT %(param_1:INT64)s;
CREATE TEMPORARY TABLE `_loaders_stage_batch` AS SELECT `ranked`.`id`, `ranked`.`name`, `ranked`.`updated_at`, `ranked`.`op`, `ranked`.`seq`
FROM (SELECT `_loaders_stage`.`id` AS `id`, `_loaders_stage`.`name` AS `name`, `_loaders_stage`.`updated_at` AS `updated_at`, `_loaders_stage`.`op` AS `op`, `_loaders_stage`.`seq` AS `seq`, row_number() OVER (PARTITION BY `_loaders_stage`.`id` ORDER BY `_loaders_stage`.`seq` DESC) AS `_rn`
FROM `_loaders_stage`) AS `ranked`
WHERE `ranked`.`_rn` = 1;
SELECT count(*) AS `count_1`
FROM `_loaders_stage_batch`;
SELECT count(CASE WHEN ((`_loaders_stage_batch`.`op` NOT IN UNNEST(%(op_1:STRING)s)) OR `_loaders_stage_batch`.`op` IS NULL) THEN %(param_1:INT64)s END) AS `count_1`, max(CASE WHEN (`_loaders_stage_batch`.`op` IN UNNEST(%(op_2:STRING)s)) THEN `_loaders_stage_batch`.`seq` END) AS `max_1`
FROM `_loaders_stage_batch`;
BEGIN TRANSACTION;
UPDATE `g_cdc_soft` SET `_deleted`=true FROM `_loaders_stage_batch` WHERE `g_cdc_soft`.`id` = `_loaders_stage_batch`.`id` AND `_loaders_stage_batch`.`op` IN UNNEST(%(op_1:STRING)s) AND `g_cdc_soft`.`_deleted` IS NOT true;
UPDATE `g_cdc_soft` SET `name`=`_loaders_stage_batch`.`name`, `updated_at`=`_loaders_stage_batch`.`updated_at`, `seq`=`_loaders_stage_batch`.`seq`, `_deleted`=false FROM `_loaders_stage_batch` WHERE `g_cdc_soft`.`id` = `_loaders_stage_batch`.`id` AND `_loaders_stage_batch`.`op` IN UNNEST(%(op_1:STRING)s) AND (`g_cdc_soft`.`name` IS DISTINCT FROM `_loaders_stage_batch`.`name` OR `g_cdc_soft`.`updated_at` IS DISTINCT FROM `_loaders_stage_batch`.`updated_at` OR `g_cdc_soft`.`seq` IS DISTINCT FROM `_loaders_stage_batch`.`seq` OR `g_cdc_soft`.`_deleted` IS true);
INSERT INTO `g_cdc_soft` (`id`, `name`, `updated_at`, `seq`, `_deleted`) SELECT `_loaders_stage_batch`.`id`, `_loaders_stage_batch`.`name`, `_loaders_stage_batch`.`updated_at`, `_loaders_stage_batch`.`seq`, false AS `_deleted`
FROM `_loaders_stage_batch`
WHERE `_loaders_stage_batch`.`op` IN UNNEST(%(op_1:STRING)s) AND NOT (EXISTS (SELECT *
FROM `g_cdc_soft`
WHERE `g_cdc_soft`.`id` = `_loaders_stage_batch`.`id`));
SELECT max(`_loaders_stage_batch`.`seq`) AS `max_1`
FROM `_loaders_stage_batch`;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;
DROP TABLE IF EXISTS `_loaders_stage_batch`;
