import MQTTWire

@testable import Ingest

extension FuzzTargets {
  /// A persistent session's saved state, as the listener reads it back from weir.db at start (a
  /// file: any bytes): it is refused or read whole, and what is read writes back to the same
  /// bytes (layout 1, without QoS 2 identifiers, is written back as layout 2 with none).
  static func listenerState(_ data: UnsafeRawBufferPointer) {
    guard let s = ListenerSession.decodeState(Array(data)) else { return }
    let session = ListenerSession(clientID: "fuzz", version: s.version, expirySeconds: s.expirySeconds)
    session.subscriptions = s.subscriptions
    let again = session.encodedState(
      savedAtMs: s.savedAtMs, connected: s.connected, awaitingRelease: s.awaitingRelease)
    var expected = Array(data)
    if expected[0] == 1 {
      expected[0] = 2
      expected += [0, 0]
    }
    precondition(again == expected, "a saved session's state reads back to different bytes")
  }
}
