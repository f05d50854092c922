-- The example rules, as shipped with the default configuration.
-- Test them offline: weir rules test config/rules/motors.sql --input records.jsonl

-- Bearing wear: vibration RMS too high, or, once RMS has left ISO 10816 zone B (2.8 mm/s), its trend
-- reaching the "unacceptable" zone within two hours. (A motor warming up at the start of a shift has a
-- rising trend too; gating the trend on the level keeps healthy motors quiet.)
CREATE RULE bearing_wear AS
SELECT device, round(rms(vibration), 2) AS vib_rms, slope(vibration) AS vib_trend, count(vibration) AS readings
FROM telemetry
WHERE kind = 'motor'
GROUP BY device, HOPPING(10m, 1m)
HAVING vib_rms > 7.1 OR (readings >= 200 AND vib_rms > 2.8 AND time_to_threshold(vibration, 11.2) < 2h)
RAISE ALERT 'warning' MESSAGE '{device}: vibration {vib_rms} mm/s RMS and rising' CLEAR AFTER 3 WINDOWS;

-- Overheating: any reading above 95 °C in a minute.
CREATE RULE overheat AS
SELECT device, max(temperature) AS t_max FROM telemetry
GROUP BY device, TUMBLING(1m)
HAVING t_max > 95
RAISE ALERT 'critical';
