-- case: auto
-- the first load's table:
CREATE TABLE `g_merge_auto` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
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
WHERE NOT (EXISTS (SELECT *
FROM `g_merge_auto`
WHERE `g_merge_auto`.`id` = `_loaders_stage`.`id`));
BEGIN TRANSACTION;
MERGE INTO `g_merge_auto` AS `t` USING `_loaders_stage` AS `s`
ON `t`.`id` = `s`.`id`
WHEN MATCHED AND (`t`.`name` IS DISTINCT FROM `s`.`name` OR `t`.`updated_at` IS DISTINCT FROM `s`.`updated_at` OR `t`.`op` IS DISTINCT FROM `s`.`op` OR `t`.`seq` IS DISTINCT FROM `s`.`seq`) THEN UPDATE SET `name` = `s`.`name`, `updated_at` = `s`.`updated_at`, `op` = `s`.`op`, `seq` = `s`.`seq`
WHEN NOT MATCHED THEN INSERT (`id`, `name`, `updated_at`, `op`, `seq`) VALUES (`s`.`id`, `s`.`name`, `s`.`updated_at`, `s`.`op`, `s`.`seq`);
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: delete_missing
-- the first load's table:
CREATE TABLE `g_merge_delete_missing` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
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
BEGIN TRANSACTION;
DELETE FROM `g_merge_delete_missing` WHERE NOT (EXISTS (SELECT *
FROM `_loaders_stage`
WHERE `_loaders_stage`.`id` = `g_merge_delete_missing`.`id`));
SELECT count(*) AS `count_1`
FROM `_loaders_stage`
WHERE NOT (EXISTS (SELECT *
FROM `g_merge_delete_missing`
WHERE `g_merge_delete_missing`.`id` = `_loaders_stage`.`id`));
MERGE INTO `g_merge_delete_missing` AS `t` USING `_loaders_stage` AS `s`
ON `t`.`id` = `s`.`id`
WHEN MATCHED AND (`t`.`name` IS DISTINCT FROM `s`.`name` OR `t`.`updated_at` IS DISTINCT FROM `s`.`updated_at` OR `t`.`op` IS DISTINCT FROM `s`.`op` OR `t`.`seq` IS DISTINCT FROM `s`.`seq`) THEN UPDATE SET `name` = `s`.`name`, `updated_at` = `s`.`updated_at`, `op` = `s`.`op`, `seq` = `s`.`seq`
WHEN NOT MATCHED THEN INSERT (`id`, `name`, `updated_at`, `op`, `seq`) VALUES (`s`.`id`, `s`.`name`, `s`.`updated_at`, `s`.`op`, `s`.`seq`);
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: update_insert
-- the first load's table:
CREATE TABLE `g_merge_update_insert` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
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
BEGIN TRANSACTION;
UPDATE `g_merge_update_insert` SET `name`=`_loaders_stage`.`name`, `updated_at`=`_loaders_stage`.`updated_at`, `op`=`_loaders_stage`.`op`, `seq`=`_loaders_stage`.`seq` FROM `_loaders_stage` WHERE `g_merge_update_insert`.`id` = `_loaders_stage`.`id` AND (`g_merge_update_insert`.`name` IS DISTINCT FROM `_loaders_stage`.`name` OR `g_merge_update_insert`.`updated_at` IS DISTINCT FROM `_loaders_stage`.`updated_at` OR `g_merge_update_insert`.`op` IS DISTINCT FROM `_loaders_stage`.`op` OR `g_merge_update_insert`.`seq` IS DISTINCT FROM `_loaders_stage`.`seq`);
INSERT INTO `g_merge_update_insert` (`id`, `name`, `updated_at`, `op`, `seq`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`
FROM `_loaders_stage`
WHERE NOT (EXISTS (SELECT *
FROM `g_merge_update_insert`
WHERE `g_merge_update_insert`.`id` = `_loaders_stage`.`id`));
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: delete_insert
-- the first load's table:
CREATE TABLE `g_merge_delete_insert` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
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
BEGIN TRANSACTION;
DELETE FROM `g_merge_delete_insert` WHERE EXISTS (SELECT *
FROM `_loaders_stage`
WHERE `_loaders_stage`.`id` = `g_merge_delete_insert`.`id`);
INSERT INTO `g_merge_delete_insert` (`id`, `name`, `updated_at`, `op`, `seq`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`
FROM `_loaders_stage`;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: merge
-- the first load's table:
CREATE TABLE `g_merge_merge` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64
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
WHERE NOT (EXISTS (SELECT *
FROM `g_merge_merge`
WHERE `g_merge_merge`.`id` = `_loaders_stage`.`id`));
BEGIN TRANSACTION;
MERGE INTO `g_merge_merge` AS `t` USING `_loaders_stage` AS `s`
ON `t`.`id` = `s`.`id`
WHEN MATCHED AND (`t`.`name` IS DISTINCT FROM `s`.`name` OR `t`.`updated_at` IS DISTINCT FROM `s`.`updated_at` OR `t`.`op` IS DISTINCT FROM `s`.`op` OR `t`.`seq` IS DISTINCT FROM `s`.`seq`) THEN UPDATE SET `name` = `s`.`name`, `updated_at` = `s`.`updated_at`, `op` = `s`.`op`, `seq` = `s`.`seq`
WHEN NOT MATCHED THEN INSERT (`id`, `name`, `updated_at`, `op`, `seq`) VALUES (`s`.`id`, `s`.`name`, `s`.`updated_at`, `s`.`op`, `s`.`seq`);
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;

-- case: upsert
-- error: UnsupportedByTarget: mart g_merge_upsert: `method: upsert` (INSERT ... ON CONFLICT / ON DUPLICATE KEY) is not available on bigquery; use `method: auto`, `update_insert` or `delete_insert`
