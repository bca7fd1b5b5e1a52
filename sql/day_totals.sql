-- fedicensus day totals with the 7-day carry-forward, over an export:
--   snapshots: `fedicensus export --what snapshots --format parquet --partition day`
--   servers:   `fedicensus export --what servers --format parquet`
-- Runs unchanged on DuckDB and Spark SQL. Gives, per day, the numbers of
-- `fedicensus report --include-suspect` (the suspect-data rules are left to fedicensus).
WITH latest AS (
  -- Each server's latest snapshot of each UTC day (`date` is the partition column).
  SELECT domain, CAST(date AS DATE) AS day, users_total, active_month,
         active_halfyear, local_posts,
         ROW_NUMBER() OVER (PARTITION BY domain, CAST(date AS DATE)
                            ORDER BY taken_at DESC) AS nth
  FROM snapshots
),
days AS (
  SELECT DISTINCT day FROM latest
),
counted AS (
  -- For each day D: each server's latest reading from D-7 through D, unless the
  -- server opted out of being counted.
  SELECT d.day AS date, l.domain, l.users_total, l.active_month,
         l.active_halfyear, l.local_posts,
         ROW_NUMBER() OVER (PARTITION BY d.day, l.domain ORDER BY l.day DESC) AS pick
  FROM days d
  JOIN latest l
    ON l.nth = 1 AND l.day <= d.day AND l.day >= d.day - INTERVAL 7 DAY
  WHERE l.domain NOT IN (SELECT domain FROM servers WHERE status = 'opted_out')
)
SELECT date,
       COUNT(*) AS servers_up,
       COALESCE(SUM(users_total), 0) AS users_total,
       COALESCE(SUM(active_month), 0) AS active_month,
       COALESCE(SUM(active_halfyear), 0) AS active_halfyear,
       COALESCE(SUM(local_posts), 0) AS local_posts
FROM counted
WHERE pick = 1
GROUP BY date
ORDER BY date
