import Gateway
import Testing
import WeirCore

/// `ConfigIssue`, what every configuration type's `problems()` returns, and the configuration
/// reader reporting each at the line of its key.
@Suite struct ConfigIssueTests {
  /// The problems `weir config check` prints for `yaml`, read as `w.yaml`.
  static func problems(_ yaml: String) -> [String] {
    do {
      _ = try GatewayConfig.parse(yaml, file: "w.yaml")
      return []
    } catch let error as ConfigError {
      return error.problems.map(\.description)
    } catch {
      return ["\(error)"]
    }
  }

  @Test func prefixingJoinsKeyPaths() {
    let address = ConfigIssue(key: "address", "70000 must be between 0 and 65535 for a uint16")
    #expect(address.description == "address: 70000 must be between 0 and 65535 for a uint16")
    #expect(address.prefixed("registers[2]").prefixed("slaves[0]").key == "slaves[0].registers[2].address")
    #expect(address.prefixed("") == address)
    // An issue with the value as a whole takes the prefix as its key.
    let whole = ConfigIssue("at least one entry is required")
    #expect(whole.key.isEmpty && whole.description == "at least one entry is required")
    #expect(whole.prefixed("registers") == ConfigIssue(key: "registers", "at least one entry is required"))
    #expect(ConfigIssue.join("", "") == "" && ConfigIssue.join("port", "") == "port")
    #expect(
      ConfigIssue.join("", "baud_rate") == "baud_rate" && ConfigIssue.join("port", "baud_rate") == "port.baud_rate")
    #expect([address, whole].prefixed("slaves[1]").map(\.key) == ["slaves[1].address", "slaves[1]"])
    #expect(
      [address, whole].summary
        == "address: 70000 must be between 0 and 65535 for a uint16; at least one entry is required")
  }

  @Test func aNestedRegisterProblemIsReportedAtItsKey() {
    #expect(
      Self.problems(
        """
        gateway: {id: gw-1}
        modbus:
          - port: {path: /dev/ttyUSB1}
            slaves:
              - unit_id: 1
                device_id: pump
                registers:
                  - {name: pressure, address: 0}
                  - name: flow
                    type: uint32
                    address: 65535
        """) == [
          "w.yaml:11: modbus[0].slaves[0].registers[1].address: 65535 must be between 0 and 65534 for a uint32"
        ])
  }

  @Test func uplinkProblemsAreReportedAtTheUplinksEntry() {
    // The sentences name the uplink and the setting, so they have no key: they are reported at the
    // entry's line, every one of them.
    #expect(
      Self.problems(
        """
        gateway: {id: gw-1}
        uplinks:
          - name: central
            kind: kafka
            bootstrap: k:9092
            topics: [telemetry]
          - name: cloud
            kind: mqtt
            broker: mqtt://c:1883
            topics: [telemetry, alerts]
            topic_template: "edge/+/{topic}"
            window_records: 70000
        """) == [
          "w.yaml:7: uplinks[1]: uplink cloud: an MQTT window holds at most 60000 records (message ids are 16-bit), got 70000",
          "w.yaml:7: uplinks[1]: uplink cloud: MQTT topic 'edge/+/telemetry' for telemetry must be non-empty, without wildcards (+ #) and not start with $",
          "w.yaml:7: uplinks[1]: uplink cloud: MQTT topic 'edge/+/alerts' for alerts must be non-empty, without wildcards (+ #) and not start with $",
        ])
  }
}
