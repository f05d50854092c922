-- Pump rules showing the options: lateness for readings that arrive out of order, an idle timeout so a pump that
-- goes silent still has its last window evaluated, and late readings kept on a side topic for inspection.

-- Cavitation: pressure swings large relative to its level over a sliding 30 seconds.
CREATE RULE pump_cavitation AS
SELECT device, peak_to_peak(pressure) AS swing, avg(pressure) AS level, crest_factor(pressure) AS crest
FROM telemetry
WHERE kind = 'pump' AND pressure IS NOT NULL
GROUP BY device, SLIDING(30s)
HAVING swing > 0.4 * level AND crest > 1.8
RAISE ALERT 'warning' MESSAGE 'pump {device}: pressure swing {swing} bar at {level} bar' CLEAR AFTER 10 WINDOWS
WITH (lateness = 5s, idle_timeout = 2m, late = 'topic:telemetry-late');

-- Motor current drifting: the 95th percentile of a 15-minute window far above its running average.
CREATE RULE current_drift AS
SELECT device, percentile(current, 0.95) AS p95, ewma(current, 0.1) AS smoothed, zscore(current) AS z
FROM telemetry
WHERE kind IN ('motor', 'pump')
GROUP BY device, TUMBLING(15m)
HAVING p95 > 1.5 * smoothed OR z > 4
RAISE ALERT 'info' CLEAR AFTER 2 WINDOWS
WITH (lateness = 30s, idle_timeout = 10m);
