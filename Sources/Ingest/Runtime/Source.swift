import PartitionedLog
import WeirCore

/// What a source is: its protocol and nothing else. ``SourceRunner/drive(_:committer:backoff:)``
/// owns the rest, the same for every source: connecting and reconnecting with back-off, one
/// commit per read pass, back-pressure (nothing more is read while the log refuses appends),
/// acknowledging only what the log holds, and the last commit at shutdown.
///
/// Every method runs on the source's own thread, one call at a time.
protocol Source: AnyObject {
  /// An open device, port or broker session.
  associatedtype Connection

  /// Opens the connection; a thrown error is reported with ``connectFailed(_:retryInMs:)`` and
  /// retried after the back-off delay.
  func connect() throws -> Connection

  /// The connection could not be opened; the runner tries again in `retryInMs`.
  func connectFailed(_ error: any Error, retryInMs: Int)

  /// Waits (briefly, ending early on the runner's wake pipe) for input and reads one pass of it
  /// into the source's `LogRouter`. Throws when the connection is gone (then ``lost(_:_:retryInMs:)``)
  /// or when the log fails (a `LogError`; then ``failed(_:_:)`` and the run ends).
  func readPass(_ connection: Connection) throws

  /// What the last pass appended is committed (or there was nothing to commit): acknowledge what
  /// needs it (MQTT: the queued PUBACKs) and count it. `committedRecords` says whether records
  /// were committed since the last call.
  func acknowledge(_ connection: Connection?, committedRecords: Bool) throws

  /// The connection is gone: close it and report; what was read and not committed is either kept
  /// (a device does not send it again) or discarded (a broker does) by the source. The runner
  /// waits `retryInMs` before connecting again.
  func lost(_ connection: Connection, _ error: any Error, retryInMs: Int)

  /// The log failed (not merely full): nothing may be acknowledged; the run ends with `error`.
  func failed(_ connection: Connection?, _ error: LogError)

  /// Stopping: reads what the device already sent into the router, committing as it goes with
  /// `commit` (false: the log refuses; stop reading). Not called when the log is refusing appends.
  func drain(_ connection: Connection?, commit: () throws(LogError) -> Bool) throws(LogError)

  /// How long the last commit at shutdown retries a full log.
  var shutdownPatienceMs: Int { get }

  /// Closes the connection at the end of the run. `shutdownError` is why the last commit failed
  /// (nil: everything read is in the log and acknowledged); the source rethrows it when what was
  /// read is lost with it, or drops it when the sender will deliver it again.
  func close(_ connection: Connection?, shutdownError: LogError?) throws
}

extension SourceRunner {
  /// Runs `source` until ``stop()``: the one loop every source shares.
  func drive<S: Source>(_ source: S, committer: inout SourceCommitter, backoff: Backoff) throws {
    var backoff = backoff
    var connection: S.Connection?
    var random = SystemRandomNumberGenerator()
    func delay() -> Int { backoff.nextDelayMs(random: Double.random(in: 0..<1, using: &random)) }
    do {
      while !isStopping {
        let open = connection
        do {
          // Back-pressure: records the log refused stay pending; nothing more is read until they fit.
          if committer.router.pendingRecords > 0 {
            guard try committer.commit() else {
              sleep(ms: committer.retryDelayMs)
              continue
            }
            try source.acknowledge(open, committedRecords: true)
            continue
          }
          guard let open else {
            do {
              connection = try source.connect()
              backoff.reset()
            } catch {
              let retry = delay()
              source.connectFailed(error, retryInMs: retry)
              sleep(ms: retry)
            }
            continue
          }
          try source.readPass(open)
          var committed = false
          if committer.router.pendingRecords > 0 {
            guard try committer.commit() else { continue }
            committed = true
          }
          try source.acknowledge(open, committedRecords: committed)
        } catch let error as LogError {
          throw error
        } catch {
          // Only a connection fails this way; without one the error is not the source's to retry.
          guard let open else { throw error }
          connection = nil
          let retry = delay()
          source.lost(open, error, retryInMs: retry)
          sleep(ms: retry)
        }
      }
    } catch let error as LogError {
      source.failed(connection, error)
      throw error
    }
    // Drain: what was already read or sent goes into the log and is acknowledged, unless the log
    // is refusing appends (then the source says what that costs).
    var shutdownError: LogError?
    do {
      if !committer.isRefused {
        try source.drain(connection) { () throws(LogError) -> Bool in try committer.commit() }
      }
      try committer.commitAtShutdown(patienceMs: source.shutdownPatienceMs)
    } catch {
      shutdownError = error
    }
    if shutdownError == nil {
      // Best effort: a sender whose acknowledgement is lost now delivers again.
      try? source.acknowledge(connection, committedRecords: true)
    }
    try source.close(connection, shutdownError: shutdownError)
  }
}
