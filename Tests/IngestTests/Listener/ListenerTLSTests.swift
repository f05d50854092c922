import Foundation
import Ingest
import Testing
import WeirTestSupport

/// The listener's TLS port against mosquitto_pub, with certificates made by openssl for the
/// test: the right CA connects, a wrong CA fails the handshake and writes nothing, and with
/// `require_client_cert` a client certificate is needed and its CN becomes the user.
@Suite(.serialized) struct ListenerTLSTests {
  /// A CA, a server certificate for 127.0.0.1, a client certificate (CN plc-7) and another CA.
  static func makeCertificates(in directory: String) async throws {
    let script = #"""
      set -e
      cd "$1"
      key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
      key ca.key; openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=weir-test-ca
      key other-ca.key; openssl req -x509 -new -key other-ca.key -out other-ca.pem -days 2 -subj /CN=someone-else
      key server.key; openssl req -new -key server.key -out server.csr -subj /CN=localhost
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
        -extfile san.ext 2>/dev/null
      key client.key; openssl req -new -key client.key -out client.csr -subj /CN=plc-7
      openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
      """#
    try script.write(toFile: directory + "/certs.sh", atomically: true, encoding: .utf8)
    let p = try ChildProcess("/bin/sh", [directory + "/certs.sh", directory])
    guard await p.waitForExit(timeout: 60) == 0 else { throw BrokerError("openssl: \(p.output)") }
  }

  static func harness(requireClientCert: Bool) async throws -> (ListenerHarness, Int) {
    let dir = NSTemporaryDirectory() + "weir-tls-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try await makeCertificates(in: dir)
    let h = try ListenerHarness { c in
      c.tls = ListenerTLS(
        host: "127.0.0.1", port: 0, certFile: dir + "/server.pem", keyFile: dir + "/server.key",
        caFile: dir + "/ca.pem", requireClientCert: requireClientCert)
      c.anonymous = !requireClientCert
    }
    // The certificates stay where the configuration names them; the harness's directory holds
    // copies for the clients and goes with the harness.
    for f in ["ca.pem", "other-ca.pem", "client.pem", "client.key"] {
      try FileManager.default.copyItem(atPath: dir + "/" + f, toPath: h.directory + "/" + f)
    }
    h.cleanUp.append(dir)
    _ = try await h.start()
    return (h, h.listener.boundTLSPort!)
  }

  static func publish(port: Int, _ extra: [String], id: String) async throws -> Int32? {
    let pub = try ChildProcess(
      "/usr/bin/mosquitto_pub",
      [
        "-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-i", id, "-t", "sensors/\(id)/telemetry", "-m",
        #"{"seq":1,"ts":1700000000000}"#,
      ] + extra)
    return await pub.waitForExit(timeout: 30)
  }

  @Test func theRightCAConnectsAndAWrongOneDoesNot() async throws {
    let (h, port) = try await Self.harness(requireClientCert: false)
    #expect(try await Self.publish(port: port, ["--cafile", h.directory + "/ca.pem"], id: "good") == 0)
    #expect(try await Self.publish(port: port, ["--cafile", h.directory + "/other-ca.pem"], id: "bad") != 0)
    try await h.stop()
    #expect(try h.records("telemetry").map(\.key) == ["good"])
  }

  @Test func aRequiredClientCertificateNamesTheUser() async throws {
    let (h, port) = try await Self.harness(requireClientCert: true)
    let ca = ["--cafile", h.directory + "/ca.pem"]
    let cert = ["--cert", h.directory + "/client.pem", "--key", h.directory + "/client.key"]
    #expect(try await Self.publish(port: port, ca + cert, id: "plc") == 0)
    #expect(try await Self.publish(port: port, ca, id: "nocert") != 0)
    // The plain port of the same listener: anonymous access is off, so no user name, no entry.
    #expect(try await Self.publish(port: h.listener.boundPort!, [], id: "plain") != 0)
    try await h.stop()
    #expect(try h.records("telemetry").map(\.key) == ["plc"])
    let connected = try h.records("device-events").filter { $0.value.contains(#""event":"connected""#) }
    #expect(connected.count == 1 && connected[0].value.contains(#""user":"plc-7""#), "\(connected)")
  }
}
