import Foundation
import Gateway
import Ingest
import Testing
import WeirCore

/// The `listeners:` section: every key read into the listener's configuration, and every problem
/// at the line of its key.
@Suite struct ListenerConfigTests {
  @Test func aListenerIsRead() throws {
    let yaml = """
      gateway: {id: edge-7}
      listeners:
        - name: devices
          listen: 127.0.0.1:18830
          anonymous: true
          max_connections: 500
          max_packet: 64KiB
          receive_maximum: 200
          max_keepalive: 10m
          max_session_expiry: 1d
          events_topic: events
          routes:
            - {filter: "sensors/+/telemetry", topic: telemetry, key: "{1}", format: json, time_field: ts}
      """
    let config = try GatewayConfig.parse(yaml, file: "w.yaml")
    let l = try #require(config.listeners.first)
    #expect(l.name == "devices" && l.host == "127.0.0.1" && l.port == 18830)
    #expect(l.maxConnections == 500 && l.maxPacketBytes == 64 << 10 && l.receiveMaximum == 200)
    #expect(l.maxKeepAliveSeconds == 600 && l.maxSessionExpirySeconds == 86_400)
    #expect(l.eventsTopic == "events" && l.defaultTopic == "mqtt")
    #expect(l.routes.map(\.filter) == ["sensors/+/telemetry"] && l.routes.first?.timeField == ["ts"])
  }

  @Test func problemsAreLocated() {
    let yaml = """
      gateway: {id: edge-7}
      listeners:
        - name: devices
          listen: nowhere
          max_packet: 1B
          routes:
            - {filter: "sensors/#/x", topic: telemetry}
        - name: devices
          anonymous: false
      """
    do {
      _ = try GatewayConfig.parse(yaml, file: "w.yaml")
      Issue.record("accepted")
    } catch let error as ConfigError {
      let text = error.problems.map(\.description)
      for e in [
        "w.yaml:4: listeners[0].listen: expected host:port",
        "w.yaml:5: listeners[0].max_packet:",
        "w.yaml:7: listeners[0].routes[0].filter: '#' must be a whole last level",
        "w.yaml:9: listeners[1].anonymous: with anonymous: false, clients need a way in",
        "listeners[1].name: another listener is already named 'devices'",
      ] {
        #expect(text.contains { $0.contains(e) }, "missing '\(e)' in \(text)")
      }
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}
