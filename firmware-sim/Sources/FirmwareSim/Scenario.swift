import Foundation
import Yams

#if canImport(Glibc)
  import Glibc
#endif

/// A fleet scenario, as written in `config/fleet/*.yaml`: which devices, how often they report,
/// which ones degrade and when, and the default fault rates. See `docs/firmware-sim.md`.
public struct Scenario: Sendable, Equatable {
  /// When simulated time 0 is.
  public enum Start: Sendable, Equatable {
    /// A fixed instant (epoch ms): runs are byte-for-byte repeatable.
    case fixed(Int64)
    /// The wall clock when the run starts.
    case now
  }

  /// A group of identical devices: `count` of one kind, numbered on from the kind's previous group.
  public struct DeviceGroup: Sendable, Equatable, Decodable {
    public var kind: DeviceKind
    public var count: Int
    /// Reporting interval, simulated seconds. Default: 5.
    public var intervalSeconds: Double
    /// MQTT QoS (0 or 1). Default: 0.
    public var qos: Int32

    enum CodingKeys: String, CodingKey {
      case kind, count, qos
      case intervalSeconds = "interval_s"
    }

    public init(kind: DeviceKind, count: Int, intervalSeconds: Double = 5, qos: Int32 = 0) {
      self.kind = kind
      self.count = count
      self.intervalSeconds = intervalSeconds
      self.qos = qos
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      kind = try container.decode(DeviceKind.self, forKey: .kind)
      count = try container.decode(Int.self, forKey: .count)
      intervalSeconds = try container.decodeIfPresent(Double.self, forKey: .intervalSeconds) ?? 5
      qos = try container.decodeIfPresent(Int32.self, forKey: .qos) ?? 0
    }
  }

  /// A degradation assigned to one device.
  public struct Failure: Sendable, Equatable, Decodable {
    public var device: String
    public var scenario: FailureMode
    /// Simulated seconds from the start when the degradation begins.
    public var onsetSeconds: Double
    /// Simulated seconds from the start when the signal crosses the threshold.
    public var failureSeconds: Double
    /// Overrides the mode's default threshold.
    public var threshold: Double?

    enum CodingKeys: String, CodingKey {
      case device, scenario, threshold
      case onsetSeconds = "onset_s"
      case failureSeconds = "failure_s"
    }

    public init(
      device: String, scenario: FailureMode, onsetSeconds: Double, failureSeconds: Double,
      threshold: Double? = nil
    ) {
      self.device = device
      self.scenario = scenario
      self.onsetSeconds = onsetSeconds
      self.failureSeconds = failureSeconds
      self.threshold = threshold
    }
  }

  public var name: String
  public var seed: UInt64
  public var start: Start
  /// Default run length in simulated seconds.
  public var durationSeconds: Double
  /// Topics are `<topic_prefix>/<device>/telemetry`. Default: `sensors`.
  public var topicPrefix: String
  public var groups: [DeviceGroup]
  public var failures: [Failure]
  public var faults: FaultRates

  public init(
    name: String, seed: UInt64, start: Start, durationSeconds: Double, topicPrefix: String = "sensors",
    groups: [DeviceGroup], failures: [Failure] = [], faults: FaultRates = FaultRates()
  ) {
    self.name = name
    self.seed = seed
    self.start = start
    self.durationSeconds = durationSeconds
    self.topicPrefix = topicPrefix
    self.groups = groups
    self.failures = failures
    self.faults = faults
  }

  /// Read and validate a scenario file.
  public static func load(path: String) throws(ScenarioError) -> Scenario {
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason = access(path, R_OK) == 0 ? "it is not a readable file" : String(cString: strerror(errno))
      throw ScenarioError(file: path, key: nil, message: "cannot read the scenario: \(reason)")
    }
    return try parse(yaml: String(decoding: data, as: UTF8.self), file: path)
  }

  /// Parse and validate scenario YAML; `file` names the source in errors.
  public static func parse(yaml: String, file: String = "<scenario>") throws(ScenarioError) -> Scenario {
    let raw: RawScenario
    do {
      raw = try YAMLDecoder().decode(RawScenario.self, from: yaml)
    } catch let error as DecodingError {
      throw ScenarioError(decoding: error, file: file)
    } catch {
      throw ScenarioError(file: file, key: nil, message: "\(error)")
    }
    let start: Start
    switch raw.start?.trimmingCharacters(in: .whitespaces) {
    case nil, "now":
      start = .now
    case let text?:
      guard let millis = ISOTime.epochMillis(text) else {
        throw ScenarioError(
          file: file, key: "start",
          message: "'\(text)' is not 'now', epoch milliseconds or a UTC time like 2026-01-05T06:00:00Z")
      }
      start = .fixed(millis)
    }
    let scenario = Scenario(
      name: raw.name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
      seed: raw.seed ?? 1, start: start, durationSeconds: raw.durationSeconds ?? 3600,
      topicPrefix: raw.topicPrefix ?? "sensors", groups: raw.devices, failures: raw.scenarios ?? [],
      faults: raw.faults ?? FaultRates())
    if let problem = scenario.problems().first {
      throw ScenarioError(file: file, key: problem.key, message: problem.message)
    }
    return scenario
  }

  /// The devices of this scenario, numbered per kind from 1 in group order, with their
  /// degradations attached. `qos` overrides every group's QoS when given.
  public func devices(qos: Int32? = nil) -> [DeviceSpec] {
    numberedDevices().map { id, group in
      let degradation = failures.first { $0.device == id }.map {
        Degradation(
          mode: $0.scenario, onsetMillis: Int64($0.onsetSeconds * 1000),
          failureMillis: Int64($0.failureSeconds * 1000), threshold: $0.threshold)
      }
      return DeviceSpec(
        id: id, kind: group.kind, intervalMillis: Int64(group.intervalSeconds * 1000),
        qos: qos ?? group.qos, degradation: degradation)
    }
  }

  /// Device ids with their groups, numbered per kind from 1 in group order.
  private func numberedDevices() -> [(id: String, group: DeviceGroup)] {
    var numbers: [DeviceKind: Int] = [:]
    var devices: [(id: String, group: DeviceGroup)] = []
    for group in groups {
      for _ in 0..<max(group.count, 0) {
        let number = numbers[group.kind, default: 0] + 1
        numbers[group.kind] = number
        devices.append((DeviceSpec.id(kind: group.kind, number: number), group))
      }
    }
    return devices
  }

  /// Parse a start time: epoch milliseconds or a UTC time `2026-01-05T06:00:00Z`.
  public static func epochMillis(_ text: String) -> Int64? {
    ISOTime.epochMillis(text)
  }

  /// The latest failure time, in simulated seconds, if the scenario has any.
  public var lastFailureSeconds: Double? {
    failures.map(\.failureSeconds).max()
  }

  /// Problems with this scenario, each with the key it concerns.
  public func problems() -> [(key: String, message: String)] {
    var problems: [(key: String, message: String)] = []
    if groups.isEmpty { problems.append(("devices", "the scenario has no devices")) }
    for (index, group) in groups.enumerated() {
      if group.count < 1 { problems.append(("devices[\(index)].count", "count must be at least 1")) }
      if !(group.intervalSeconds >= 0.001) {
        problems.append(("devices[\(index)].interval_s", "interval must be at least 0.001 s"))
      }
      if group.qos != 0 && group.qos != 1 {
        problems.append(("devices[\(index)].qos", "qos must be 0 or 1"))
      }
    }
    if !(durationSeconds > 0) { problems.append(("duration_s", "duration must be positive")) }
    if topicPrefix.isEmpty || topicPrefix.contains("+") || topicPrefix.contains("#") {
      problems.append(("topic_prefix", "topic prefix must be non-empty and free of wildcards"))
    }
    let known = Dictionary(numberedDevices().map { ($0.id, $0.group.kind) }, uniquingKeysWith: { first, _ in first })
    var seen: Set<String> = []
    for (index, failure) in failures.enumerated() {
      let key = "scenarios[\(index)]"
      guard let kind = known[failure.device] else {
        problems.append(("\(key).device", "no device \(failure.device) in this fleet"))
        continue
      }
      if !seen.insert(failure.device).inserted {
        problems.append(("\(key).device", "\(failure.device) already has a scenario"))
      }
      if !failure.scenario.kinds.contains(kind) {
        problems.append(("\(key).scenario", "\(failure.scenario.rawValue) does not apply to a \(kind.rawValue)"))
      }
      if !(failure.onsetSeconds >= 0 && Int64(failure.failureSeconds * 1000) > Int64(failure.onsetSeconds * 1000)) {
        problems.append(("\(key).failure_s", "need 0 <= onset_s < failure_s"))
      }
    }
    for problem in faults.problems() {
      problems.append(("faults", problem))
    }
    return problems
  }
}

/// The file as written, before defaults and validation.
private struct RawScenario: Decodable {
  var name: String?
  var seed: UInt64?
  var start: String?
  var durationSeconds: Double?
  var topicPrefix: String?
  var devices: [Scenario.DeviceGroup]
  var scenarios: [Scenario.Failure]?
  var faults: FaultRates?

  enum CodingKeys: String, CodingKey {
    case name, seed, start, devices, scenarios, faults
    case durationSeconds = "duration_s"
    case topicPrefix = "topic_prefix"
  }
}

/// A scenario file that cannot be used, naming the file and the key.
public struct ScenarioError: Error, CustomStringConvertible, Equatable {
  public var file: String
  public var key: String?
  public var message: String

  public init(file: String, key: String?, message: String) {
    self.file = file
    self.key = key
    self.message = message
  }

  init(decoding error: DecodingError, file: String) {
    func path(_ codingPath: [any CodingKey]) -> String {
      codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
    switch error {
    case .keyNotFound(let key, let context):
      let parent = path(context.codingPath)
      self.init(file: file, key: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)",
        message: "required key is missing")
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      self.init(file: file, key: path(context.codingPath), message: context.debugDescription)
    @unknown default:
      self.init(file: file, key: nil, message: "\(error)")
    }
  }

  public var description: String {
    if let key, !key.isEmpty {
      return "\(file): \(key): \(message)"
    }
    return "\(file): \(message)"
  }
}
