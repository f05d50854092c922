/// The libFuzzer harnesses, one per external interface: each takes any bytes and must return
/// without trapping, hanging or growing without bound. `weir-fuzz NAME` runs one under libFuzzer
/// (`make fuzz`); `FuzzTests` replays every corpus file in `fuzz/corpus/NAME/` and every crash kept
/// in `fuzz/crashes/NAME/` on each `make test`.
public enum FuzzTargets {
  public typealias Harness = @Sendable (UnsafeRawBufferPointer) -> Void

  /// Every harness by name; the name is also the corpus folder.
  public static let all: [(name: String, run: Harness)] = [
    ("mqtt-payload", mqttPayload),
    ("nmea", nmeaLines),
    ("csv", csvLines),
    ("json-lines", jsonLines),
    ("modbus", modbusFrames),
    ("config", config),
    ("rules", rules),
    ("segment", segmentRecovery),
    ("http-query", httpQuery),
    ("payload", payload),
    ("mqtt-packet", mqttPacket),
    ("password-file", passwordFile),
    ("acl-file", aclFile),
    ("listener-state", listenerState),
  ]

  public static func harness(named name: String) -> Harness? { all.first { $0.name == name }?.run }
}
