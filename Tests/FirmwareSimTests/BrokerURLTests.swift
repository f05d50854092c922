import Testing
@testable import FirmwareSim

struct BrokerURLTests {
  @Test(arguments: [
    ("mqtt://127.0.0.1:1883", BrokerURL(host: "127.0.0.1", port: 1883)),
    ("mqtt://localhost", BrokerURL(host: "localhost", port: 1883)),
    ("tcp://broker.local:8883/", BrokerURL(host: "broker.local", port: 8883)),
    ("mqtt://alice:s3cret@10.0.0.2:1884", BrokerURL(host: "10.0.0.2", port: 1884, username: "alice", password: "s3cret")),
    ("mqtt://bob@10.0.0.2", BrokerURL(host: "10.0.0.2", port: 1883, username: "bob")),
    ("mqtt://us%40er:p%3Ass%40@h:1", BrokerURL(host: "h", port: 1, username: "us@er", password: "p:ss@")),
    ("mqtt://[::1]:1999", BrokerURL(host: "::1", port: 1999)),
    ("MQTT://Host:2", BrokerURL(host: "Host", port: 2)),
  ])
  func parses(text: String, expected: BrokerURL) throws {
    #expect(try BrokerURL(parsing: text) == expected)
  }

  @Test(arguments: [
    "127.0.0.1:1883", "http://host:80", "mqtts://host", "mqtt://", "mqtt://host:0", "mqtt://host:70000",
    "mqtt://host:abc", "mqtt://host/topic", "mqtt://@host", "mqtt://[::1", "mqtt://u:%zz@host",
  ])
  func rejects(text: String) {
    #expect(throws: BrokerURLError.self) { try BrokerURL(parsing: text) }
  }

  @Test func descriptionHidesThePassword() throws {
    let url = try BrokerURL(parsing: "mqtt://alice:s3cret@h:1")
    #expect(url.description == "mqtt://alice:***@h:1")
  }
}
