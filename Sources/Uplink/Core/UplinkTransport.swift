import WeirCore

/// What a transport did with one send.
enum SendOutcome {
  /// Queued; a delivery report will follow.
  case accepted
  /// The transport cannot take more now; try again after its next reports.
  case busy
  /// This send failed and no report will follow (the lane rewinds and backs off).
  case failed(String)
  /// The remote end will never take this record (too large...): a gap marker replaces it.
  case rejected(String)
}

/// What became of one send.
enum DeliveryOutcome {
  case delivered
  /// Not confirmed: the lane rewinds to its confirmed position. `purged` when Weir itself
  /// cancelled it (after another failure), which is not counted as an error.
  case failed(String, purged: Bool)
  /// The remote end refused this record for good.
  case rejected(String)
}

/// A way to the central system: Kafka (librdkafka) or an MQTT broker (libmosquitto). The uplink's
/// thread calls every method; a transport with threads of its own hands reports over to it.
protocol UplinkTransport: AnyObject, SendableMetatype {
  /// `kafka` or `mqtt`, for status.
  var kind: String { get }
  /// Lets the transport wake the uplink's thread when reports are ready.
  func attach(_ wakeup: WakePipe)
  /// Registers a remote topic; returns the index ``send(topic:key:value:timestamp:headers:token:)`` takes.
  func remoteTopic(_ name: String) throws(UplinkError) -> Int
  /// Hands over one record; the transport copies what it keeps before returning.
  func send(
    topic: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: UnsafeBufferPointer<HeaderRef>, token: UInt64
  ) -> SendOutcome
  /// Serves ready reports (waiting up to `timeoutMs` for the first).
  func poll(timeoutMs: Int32, _ handler: (UInt64, DeliveryOutcome) -> Void)
  /// Cancels what is queued and not yet on the wire, after a failure: its reports come back as
  /// purged, so nothing queued behind a failed record can overtake it.
  func abandonQueued()
  /// Set when the transport cannot go on without ``restart()`` (librdkafka's fatal error).
  var brokenReason: String? { get }
  /// False when the transport knows the remote end is unreachable; nil when it cannot tell.
  var reachable: Bool? { get }
  /// Drops everything in flight and starts a fresh client with the same topics.
  func restart() throws(UplinkError)
  /// When a partition's oldest record in flight is older than this, nothing more is sent to that
  /// partition until it is confirmed or failed (nil: the transport never drops a record on its own).
  var overtakeGuardMs: Int? { get }
  /// How long reports of a failed lane may take to come back before the client is restarted.
  var drainTimeoutMs: Int { get }
  /// Releases the client (after the uplink waited for what it could).
  func close()
}
