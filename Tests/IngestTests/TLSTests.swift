import Foundation
import MQTT
import PartitionedLog
import Testing
import WeirTestSupport

@testable import Ingest

/// A test CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA.
final class TestCertificates {
  let dir = TempDir()
  var path: String { dir.path }

  init() throws {
    chmod(dir.path, 0o777)
    let script = """
      set -e
      cd '\(dir.path)'
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=weir-test-ca
      openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
      printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext
      openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=weir-gateway
      openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2
      openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=some-other-ca
      chmod 644 *
      """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw BrokerError("openssl could not make the test certificates") }
  }
}

@Suite(.serialized) struct TLSTests {
  /// A broker that requires client certificates on one listener (the gateway's) and takes plain
  /// connections on another (the test's publisher).
  func tlsBroker(_ certs: TestCertificates) throws -> (MosquittoBroker, plainPort: Int) {
    let plain = MosquittoBroker.freePort()
    let broker = try MosquittoBroker(
      extraConfig: """
        cafile \(certs.path)/ca.crt
        certfile \(certs.path)/server.crt
        keyfile \(certs.path)/server.key
        require_certificate true
        listener \(plain) 127.0.0.1
        """)
    return (broker, plain)
  }

  @Test func clientCertificatesOverTLS() async throws {
    let certs = try TestCertificates()
    let (broker, plainPort) = try tlsBroker(certs)
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    let tls = MQTTClientConfig.TLS(
      caFile: certs.path + "/ca.crt", certFile: certs.path + "/client.crt", keyFile: certs.path + "/client.key")
    let source = try RunningSource(
      sourceConfig(port: broker.port, [MQTTSourceTests.telemetry], tls: tls), store: store)
    #expect(source.waitConnected(), "\(source.source.status)")
    let publisher = try TestPublisher(port: plainPort, id: "tls-pub")
    try publisher.publishAll((0..<100).map { ("sensors/d\($0 % 3)/telemetry", Array("{\"n\":\($0)}".utf8)) }, qos: 1)
    #expect(waitFor(10) { totalRecords(store, "telemetry") >= 100 })
    try await source.stop()
    try store.close()
  }

  @Test func aWrongCAIsAClearErrorNotACrash() async throws {
    let certs = try TestCertificates()
    let (broker, _) = try tlsBroker(certs)
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    let tls = MQTTClientConfig.TLS(
      caFile: certs.path + "/other.crt", certFile: certs.path + "/client.crt", keyFile: certs.path + "/client.key")
    let source = try RunningSource(sourceConfig(port: broker.port, [MQTTSourceTests.telemetry], tls: tls), store: store)
    #expect(waitFor(10) { source.source.status.lastError?.contains("TLS") == true }, "\(source.source.status)")
    #expect(!source.source.status.connected)
    try await source.stop()
    try store.close()
  }
}
