import Foundation
import WeirCore

/// The benchmark behind `weir bench rules`: the two example rules of `config/rules/motors.sql` over generated events.
public enum RulesBenchmark {
  /// The rules measured, exactly as the architecture document writes them.
  public static let rules = """
    CREATE RULE bearing_wear AS
    SELECT device, rms(vibration) AS vib_rms, slope(vibration) AS vib_trend
    FROM telemetry
    WHERE kind = 'motor'
    GROUP BY device, HOPPING(10m, 1m)
    HAVING vib_rms > 7.1 OR time_to_threshold(vibration, 11.2) < 2h
    RAISE ALERT 'warning' CLEAR AFTER 3 WINDOWS;

    CREATE RULE overheat AS
    SELECT device, max(temperature) AS t_max FROM telemetry
    GROUP BY device, TUMBLING(1m)
    HAVING t_max > 95
    RAISE ALERT 'critical';
    """

  /// The most events one run generates.
  public static let maximumEvents = 1_000_000_000_000
  /// The most distinct device keys one run generates.
  public static let maximumKeys = 1_000_000

  /// Arguments outside what the benchmark can generate.
  public struct ArgumentError: Error, Sendable, CustomStringConvertible {
    /// Which argument and what it may be.
    public var description: String
  }

  /// What one run measured.
  public struct Result: Sendable {
    /// Events processed.
    public var events: Int
    /// Distinct devices.
    public var keys: Int
    /// Alert transitions emitted.
    public var alerts: Int
    /// Wall time of the processing loop (payload generation excluded).
    public var seconds: Double
    /// Events per second of the processing loop.
    public var eventsPerSecond: Double
    /// The process's peak resident set (VmHWM), or 0 where /proc is unavailable.
    public var peakRSSBytes: Int64

    /// One JSON object: `events_per_s`, `peak_rss_bytes`, `events`, `keys`, `alerts`, `seconds`.
    public var json: String {
      "{\"events_per_s\":\(Int64(eventsPerSecond)),\"peak_rss_bytes\":\(peakRSSBytes),\"events\":\(events),"
        + "\"keys\":\(keys),\"alerts\":\(alerts),\"seconds\":\(String(format: "%.3f", seconds))}"
    }
  }

  /// Runs `events` events over `keys` devices (round-robin, each device reporting once per second of event time).
  ///
  /// Payloads come from a fixed pool of 16 variants per device built before timing starts, so memory depends on
  /// the number of keys, not of events.
  public static func run(events: Int, keys: Int) throws -> Result {
    // Event times grow by up to a second per event: past these the generator's arithmetic would overflow, and the
    // payload pool grows with the keys.
    guard (0...maximumEvents).contains(events) else {
      throw ArgumentError(description: "--events must be 0 to \(maximumEvents), not \(events)")
    }
    guard (1...maximumKeys).contains(keys) else {
      throw ArgumentError(description: "--keys must be 1 to \(maximumKeys), not \(keys)")
    }
    let variants = 16
    var arena: [UInt8] = []
    var spans: [(keyStart: Int, keyCount: Int, valueStart: Int, valueCount: Int)] = []
    var random = SplitMix64(seed: 42)
    let t0: Int64 = 1_700_000_000_000
    for k in 0..<keys {
      let device = "motor-" + String(repeating: "0", count: max(0, 4 - String(k).count)) + String(k)
      let kind = k % 5 == 4 ? "pump" : "motor"
      let vibrationBase = k % 50 == 0 ? 7.6 : 2.0 + Double(k % 7) * 0.4
      let temperatureBase = k % 97 == 0 ? 96.5 : 65.0 + Double(k % 11)
      for v in 0..<variants {
        let vibration = (vibrationBase + random.nextUnit() * 0.8).rounded(toPlaces: 2)
        let temperature = (temperatureBase + random.nextUnit() * 2).rounded(toPlaces: 1)
        let payload =
          "{\"device\":\"\(device)\",\"kind\":\"\(kind)\",\"ts\":\(t0 + Int64(v) * 1000),"
          + "\"vibration\":\(vibration),\"temperature\":\(temperature)}"
        let keyStart = arena.count
        arena.append(contentsOf: device.utf8)
        let valueStart = arena.count
        arena.append(contentsOf: payload.utf8)
        spans.append((keyStart, device.utf8.count, valueStart, arena.count - valueStart))
      }
    }
    let engine = try RuleEngine(source: rules, fileName: "bench.sql", clock: ContinuousClock())
    let topic = engine.topic("telemetry")
    let step = max(1, 1000 / Int64(keys))
    var output = RuleOutput()
    var alerts = 0
    let batchSize = 512
    var batch: [RuleInputRecord] = []
    batch.reserveCapacity(batchSize)
    let clock = ContinuousClock()
    let started = clock.now
    arena.withUnsafeBytes { raw in
      var i = 0
      while i < events {
        batch.removeAll(keepingCapacity: true)
        let end = min(events, i + batchSize)
        for e in i..<end {
          let k = e % keys
          let span = spans[k * variants + (e / keys) % variants]
          batch.append(
            RuleInputRecord(
              partition: Int32(k % 4), offset: Int64(e), timestamp: t0 + Int64(e) * step,
              key: UnsafeRawBufferPointer(rebasing: raw[span.keyStart..<span.keyStart + span.keyCount]),
              value: UnsafeRawBufferPointer(rebasing: raw[span.valueStart..<span.valueStart + span.valueCount])))
        }
        engine.process(batch, topic: topic, into: &output)
        alerts += output.alerts.count
        output.removeAll()
        i = end
      }
    }
    let elapsed = started.duration(to: clock.now).components
    let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    return Result(
      events: events, keys: keys, alerts: alerts, seconds: seconds,
      eventsPerSecond: seconds > 0 ? Double(events) / seconds : 0, peakRSSBytes: peakResidentSetBytes())
  }

  /// VmHWM from /proc/self/status, in bytes.
  public static func peakResidentSetBytes() -> Int64 {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let kb = line.dropFirst(6).filter(\.isNumber)
      return (Int64(String(kb)) ?? 0) * 1024
    }
    return 0
  }
}

extension Double {
  func rounded(toPlaces places: Int) -> Double {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return (self * scale).rounded() / scale
  }
}
