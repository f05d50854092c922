-- Pump rules showing the options: lateness for readings that arrive out of order, an idle timeout so a pump that
-- goes silent still has its last window evaluated, and late readings kept on a side topic for inspection.

-- Cavitation: discharge pressure falling (ever noisier) toward 1.5 bar: its 10-minute trend reaches it within
-- 30 minutes. A duty change steps the pressure but its trend does not get there that fast. A window needs
-- three quarters of its readings (a pump reports every 5 s): a trend over a few readings is noise.
CREATE RULE pump_cavitation AS
SELECT device, round(avg(pressure), 2) AS level, round(stddev(pressure), 3) AS noise,
       round(time_to_threshold(pressure, 1.5) / 60) AS minutes_left, count(pressure) AS readings
FROM telemetry
WHERE kind = 'pump' AND pressure IS NOT NULL
GROUP BY device, HOPPING(10m, 1m)
HAVING readings >= 90 AND (level < 1.5 OR minutes_left < 30)
RAISE ALERT 'warning' MESSAGE '{device}: discharge pressure {level} bar, at 1.5 bar in about {minutes_left} min' CLEAR AFTER 5 WINDOWS
WITH (lateness = 5s, idle_timeout = 2m, late = 'topic:telemetry-late');

-- Motor current drifting: the 95th percentile of a 15-minute window far above its running average.
CREATE RULE current_drift AS
SELECT device, percentile(current, 0.95) AS p95, ewma(current, 0.1) AS smoothed, zscore(current) AS z
FROM telemetry
WHERE kind IN ('motor', 'pump')
GROUP BY device, TUMBLING(15m)
HAVING p95 > 1.5 * smoothed OR z > 6
RAISE ALERT 'info' CLEAR AFTER 2 WINDOWS
WITH (lateness = 30s, idle_timeout = 10m);
