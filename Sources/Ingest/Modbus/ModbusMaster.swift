import WeirCore

/// The RTU master side of one serial line: sends a request, keeps the bus silent for 3.5
/// character times between frames, collects the response until it is complete or the response
/// timeout passes, checks it, and retries what is worth retrying. Not thread-safe: the Modbus
/// source's thread owns it.
final class ModbusMaster {
  /// The outcome of one request with its retries.
  enum Outcome {
    /// The response's data bytes (a view valid until the next request) and the errors of the
    /// attempts that failed before it.
    case data(UnsafeRawBufferPointer, retried: [ModbusError])
    /// Every attempt failed; the errors of each attempt, in order.
    case failed([ModbusError])
    /// The source is stopping.
    case stopped
  }

  let characterTimeNs: Int64
  let silenceNs: Int64
  let responseTimeoutNs: Int64
  /// When the bus was last busy (the end of the last frame sent or byte received).
  private var lastActivityNs: Int64 = 0
  private let rx = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
  private let tx = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
  /// Bytes found on the line outside any exchange (late responses, noise).
  private(set) var strayBytes = 0

  init(_ config: ModbusConfig) {
    characterTimeNs = Int64(config.characterTimeUs * 1000)
    silenceNs = Int64(config.effectiveInterFrameDelayUs) * 1000
    responseTimeoutNs = Int64(config.responseTimeoutMs) * 1_000_000
  }

  deinit {
    rx.deallocate()
    tx.deallocate()
  }

  /// Sends `request` up to `attempts` times until a valid response arrives.
  func read(
    _ request: ModbusRequest, attempts: Int, port: SerialPort, wake: WakePipe, shouldStop: () -> Bool
  ) -> Outcome {
    var errors: [ModbusError] = []
    for _ in 1...max(1, attempts) {
      do throws(ModbusError) {
        guard let data = try exchange(request, port: port, wake: wake, shouldStop: shouldStop) else { return .stopped }
        return .data(data, retried: errors)
      } catch {
        errors.append(error)
        if !error.isTransient { break }
      }
    }
    return .failed(errors)
  }

  /// One request and its response; nil when stopping.
  private func exchange(
    _ request: ModbusRequest, port: SerialPort, wake: WakePipe, shouldStop: () -> Bool
  ) throws(ModbusError) -> UnsafeRawBufferPointer? {
    try io { () throws(SerialError) in try keepSilence(port) }
    let frame = request.frame
    tx.copyBytes(from: frame)
    try io { () throws(SerialError) in
      try send(UnsafeRawBufferPointer(rebasing: tx[0..<frame.count]), port: port, wake: wake)
    }
    // The request is on the wire only once the UART has shifted it out; the timeout starts then.
    let sentNs = Monotonic.nanoseconds() + Int64(frame.count) * characterTimeNs
    lastActivityNs = sentNs
    let deadline = sentNs + responseTimeoutNs
    var received = 0
    while true {
      let parsed = try request.parse(UnsafeRawBufferPointer(rebasing: rx[0..<received]))
      if case .data(let data, _) = parsed {
        return UnsafeRawBufferPointer(rebasing: rx[data])
      }
      let now = Monotonic.nanoseconds()
      if now >= deadline {
        throw ModbusError(
          .timeout,
          received == 0
            ? "no response from unit \(request.unit) within \(responseTimeoutNs / 1_000_000) ms"
            : "incomplete response from unit \(request.unit): \(received) bytes within \(responseTimeoutNs / 1_000_000) ms"
        )
      }
      let waitMs = Int((deadline - now + 999_999) / 1_000_000)
      let readiness = try io { () throws(SerialError) in try port.wait(wake: wake, timeoutMs: waitMs) }
      if readiness.woken && shouldStop() { return nil }
      guard readiness.readable || readiness.hangUp else { continue }
      let space = UnsafeMutableRawBufferPointer(rebasing: rx[received...])
      guard !space.isEmpty else { throw ModbusError(.malformed, "response from unit \(request.unit) too long") }
      let n = try io { () throws(SerialError) in try port.read(into: space) }
      if n == 0 && readiness.hangUp {
        throw ModbusError(
          .io, "\(port.path): the device hung up", port: SerialError(.deviceGone, "\(port.path): the device hung up"))
      }
      received += n
      lastActivityNs = Monotonic.nanoseconds()
    }
  }

  @inline(__always)
  private func io<T>(_ body: () throws(SerialError) -> T) throws(ModbusError) -> T {
    do {
      return try body()
    } catch {
      throw ModbusError(.io, error.description, port: error)
    }
  }

  /// Waits out the inter-frame silence since the last activity, and drops whatever arrived since
  /// the last exchange (a response that came after its timeout must not be taken for the next one).
  private func keepSilence(_ port: SerialPort) throws(SerialError) {
    while true {
      let quietFor = Monotonic.nanoseconds() - lastActivityNs
      if quietFor < silenceNs {
        SerialPosix.sleep(microseconds: Int((silenceNs - quietFor + 999) / 1000))
      }
      let n = try port.read(into: rx)
      if n == 0 { return }
      strayBytes += n
      lastActivityNs = Monotonic.nanoseconds()
    }
  }

  private func send(_ frame: UnsafeRawBufferPointer, port: SerialPort, wake: WakePipe) throws(SerialError) {
    var sent = 0
    let deadline = Monotonic.nanoseconds() + responseTimeoutNs
    while sent < frame.count {
      sent += try port.write(UnsafeRawBufferPointer(rebasing: frame[sent...]))
      if sent < frame.count {
        if Monotonic.nanoseconds() > deadline {
          throw SerialError(.io, "write \(port.path): the port accepted no data (flow control?)")
        }
        _ = try port.wait(writable: true, wake: wake, timeoutMs: 10)
      }
    }
  }
}
