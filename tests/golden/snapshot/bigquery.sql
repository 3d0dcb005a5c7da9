-- case: retain
-- the first load's table:
CREATE TABLE `g_snapshot_retain` (
	`id` INT64,
	`name` STRING,
	`updated_at` DATETIME,
	`op` STRING,
	`seq` INT64,
	`snapshot_date` DATE
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
BEGIN TRANSACTION;
DELETE FROM `g_snapshot_retain` WHERE `g_snapshot_retain`.`snapshot_date` = %(param_1:DATE)s;
INSERT INTO `g_snapshot_retain` (`id`, `name`, `updated_at`, `op`, `seq`, `snapshot_date`) SELECT `_loaders_stage`.`id`, `_loaders_stage`.`name`, `_loaders_stage`.`updated_at`, `_loaders_stage`.`op`, `_loaders_stage`.`seq`, %(param_1:DATE)s AS `snapshot_date`
FROM `_loaders_stage`;
SELECT DISTINCT `g_snapshot_retain`.`snapshot_date`
FROM `g_snapshot_retain` ORDER BY `g_snapshot_retain`.`snapshot_date` DESC
 LIMIT %(param_1:INT64)s;
INSERT INTO `_loaders_runs` (`run_id`, `mart`, `strategy`, `target_table`, `started_at`, `finished_at`, `status`, `rows_in`, `inserted`, `updated`, `deleted`, `closed`, `unchanged`, `watermark_before`, `watermark_after`, `error`, `batch_key`, `checks`) VALUES (%(run_id:STRING)s, %(mart:STRING)s, %(strategy:STRING)s, %(target_table:STRING)s, %(started_at:DATETIME)s, %(finished_at:DATETIME)s, %(status:STRING)s, %(rows_in:INT64)s, %(inserted:INT64)s, %(updated:INT64)s, %(deleted:INT64)s, %(closed:INT64)s, %(unchanged:INT64)s, %(watermark_before:STRING)s, %(watermark_after:STRING)s, %(error:STRING)s, %(batch_key:STRING)s, %(checks:STRING)s);
ROLLBACK TRANSACTION;
DROP TABLE IF EXISTS `_loaders_stage`;
