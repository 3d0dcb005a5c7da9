-- case: day
SELECT count(*) AS count_1
FROM _loaders_stage
WHERE _loaders_stage.updated_at IS NULL;
DELETE FROM g_overwrite_window_day WHERE CAST(g_overwrite_window_day.updated_at AS DATE) IN (SELECT DISTINCT CAST(_loaders_stage.updated_at AS DATE) AS updated_at
FROM _loaders_stage);
INSERT INTO g_overwrite_window_day (id, name, updated_at, op, seq) SELECT _loaders_stage.id, _loaders_stage.name, _loaders_stage.updated_at, _loaders_stage.op, _loaders_stage.seq
FROM _loaders_stage;
INSERT INTO _loaders_runs (run_id, mart, strategy, target_table, started_at, finished_at, status, rows_in, inserted, updated, deleted, closed, unchanged, watermark_before, watermark_after, error, batch_key, checks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18);
