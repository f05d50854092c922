/// The fleet as a deterministic stream of messages in send order.
///
/// Each device samples its model at its own interval (with a random phase), the fault injector
/// decides what the reading turns into (nothing yet, one message, two, a message scheduled for
/// later), and a time-ordered event queue merges everything. Nothing here looks at the wall clock:
/// the same devices, seed, start time and fault rates give a byte-identical sequence, which is what
/// a transport then paces in real or accelerated time.
public struct FleetSimulator: Sendable {
  /// The devices, indexed as ``FleetMessage/device``.
  public let devices: [DeviceSpec]
  public let clock: SimClock
  public let faults: FaultRates
  public let seed: UInt64
  /// Messages due after this simulated time are never produced.
  public let endMillis: Int64

  private var states: [DeviceState]
  private var queue = EventQueue<Event>()
  private var ready: [FleetMessage] = []
  private var readyHead = 0
  private var scratch: [UInt8] = []

  /// The most readings a device buffers while offline; older ones are lost, as on a device whose
  /// flash ring buffer wraps.
  public static let offlineBufferLimit = 10_000

  private enum Event: Sendable {
    case sample(Int)
    case emit(FleetMessage)
  }

  private struct DeviceState: Sendable {
    var model: DeviceModel
    var rng: Xoshiro256
    let skewMillis: Int64
    var offlineUntil: Int64?
    var buffered: [FleetMessage] = []
  }

  public init(devices: [DeviceSpec], seed: UInt64, clock: SimClock, faults: FaultRates, endMillis: Int64) {
    self.devices = devices
    self.seed = seed
    self.clock = clock
    self.faults = faults
    self.endMillis = endMillis
    var states: [DeviceState] = []
    states.reserveCapacity(devices.count)
    for (index, device) in devices.enumerated() {
      var setup = Xoshiro256(seed: device.streamSeed(seed, .setup))
      let phase = Int64(setup.unitDouble() * Double(device.intervalMillis))
      let skewed = setup.chance(faults.clockSkew)
      let magnitude = faults.clockSkewMaxSeconds * (0.1 + 0.9 * setup.unitDouble())
      let sign: Double = setup.chance(0.5) ? 1 : -1
      let skew = skewed ? Int64((sign * magnitude * 1000).rounded()) : 0
      states.append(
        DeviceState(
          model: DeviceModel(
            kind: device.kind, seed: device.streamSeed(seed, .model), degradation: device.degradation),
          rng: Xoshiro256(seed: device.streamSeed(seed, .faults)),
          skewMillis: skew))
      queue.push(.sample(index), at: phase)
    }
    self.states = states
  }

  /// The clock skew of each device, in milliseconds (0 for a correct clock).
  public var clockSkews: [Int64] { states.map(\.skewMillis) }

  /// One record per degrading device.
  public var groundTruth: [GroundTruthRecord] {
    devices.enumerated().compactMap { index, device in
      guard let degradation = device.degradation else { return nil }
      return GroundTruthRecord(
        device: device.id, kind: device.kind, scenario: degradation.mode,
        threshold: degradation.threshold, onsetMillis: degradation.onsetMillis,
        failureMillis: degradation.failureMillis,
        onsetTimestamp: clock.epochMillis(degradation.onsetMillis),
        failureTimestamp: clock.epochMillis(degradation.failureMillis),
        clockSkewMillis: states[index].skewMillis)
    }
  }

  /// Simulated time of the next message or event, if any is due before the end.
  public var nextEventMillis: Int64? {
    if readyHead < ready.count { return ready[readyHead].sendMillis }
    guard let time = queue.nextTime, time <= endMillis else { return nil }
    return time
  }

  /// The next message in send order, or nil when the run is over.
  public mutating func next() -> FleetMessage? {
    while true {
      if readyHead < ready.count {
        let message = ready[readyHead]
        readyHead += 1
        if readyHead == ready.count {
          ready.removeAll(keepingCapacity: true)
          readyHead = 0
        }
        return message
      }
      guard let time = queue.nextTime, time <= endMillis, let event = queue.pop() else {
        return nil
      }
      switch event.payload {
      case .sample(let index):
        sample(device: index, at: event.time)
        queue.push(.sample(index), at: event.time + devices[index].intervalMillis)
      case .emit(let message):
        ready.append(message)
      }
    }
  }

  private mutating func sample(device index: Int, at time: Int64) {
    let device = devices[index]
    var state = states[index]
    defer { states[index] = state }
    let reading = state.model.sample(at: time, clock: clock)
    let timestamp = clock.epochMillis(time) + state.skewMillis

    // A fixed number of draws per reading whatever the rates, so streams stay aligned.
    let contentDraw = state.rng.unitDouble()
    let choiceDraw = state.rng.unitDouble()
    let cutDraw = state.rng.unitDouble()
    let duplicateDraw = state.rng.unitDouble()
    let outOfOrderDraw = state.rng.unitDouble()
    let lateDraw = state.rng.unitDouble()
    let offlineDraw = state.rng.unitDouble()

    var flags: FaultSet = state.skewMillis != 0 ? .skewed : []
    let content = contentFault(kind: device.kind, draw: contentDraw, choice: choiceDraw, flags: &flags)
    TelemetryEncoder.encode(
      device: device.id, kind: device.kind, timestamp: timestamp, values: reading.values,
      fault: content, malformCut: cutDraw, into: &scratch)
    var message = FleetMessage(
      device: index, sendMillis: time, readingMillis: time, timestamp: timestamp,
      payload: scratch, faults: flags, values: reading.values)
    let duplicated = duplicateDraw < faults.duplicate

    if let until = state.offlineUntil {
      if time < until {
        buffer(message, duplicated: duplicated, into: &state)
        return
      }
      for var old in state.buffered {
        old.sendMillis = time
        ready.append(old)
      }
      state.buffered.removeAll()
      state.offlineUntil = nil
    }
    if offlineDraw < faults.offline {
      state.offlineUntil = time + Int64(faults.offlineSeconds * 1000)
      buffer(message, duplicated: duplicated, into: &state)
      return
    }

    var due = time
    if lateDraw < faults.late {
      message.faults.insert(.late)
      due = time + Int64(faults.lateBySeconds * 1000)
    } else if outOfOrderDraw < faults.outOfOrder {
      message.faults.insert(.outOfOrder)
      due = time + device.intervalMillis + 1
    }
    message.sendMillis = due
    emit(message, at: due, now: time)
    if duplicated {
      message.faults.insert(.duplicate)
      emit(message, at: due, now: time)
    }
  }

  private mutating func emit(_ message: FleetMessage, at due: Int64, now: Int64) {
    if due == now {
      ready.append(message)
    } else {
      queue.push(.emit(message), at: due)
    }
  }

  private func buffer(_ message: FleetMessage, duplicated: Bool, into state: inout DeviceState) {
    var message = message
    message.faults.insert(.buffered)
    state.buffered.append(message)
    if duplicated {
      message.faults.insert(.duplicate)
      state.buffered.append(message)
    }
    if state.buffered.count > Self.offlineBufferLimit {
      state.buffered.removeFirst(state.buffered.count - Self.offlineBufferLimit)
    }
  }

  private func contentFault(
    kind: DeviceKind, draw: Double, choice: Double, flags: inout FaultSet
  ) -> TelemetryEncoder.ContentFault {
    let keyCount = 2 + kind.fields.count
    let keyIndex = min(Int(choice * Double(keyCount)), keyCount - 1)
    let key: TelemetryEncoder.Key =
      switch keyIndex {
      case 0: .device
      case 1: .timestamp
      default: .field(keyIndex - 2)
      }
    if draw < faults.malformed {
      flags.insert(.malformed)
      return .malformed(variant: min(Int(choice * 3), 2))
    }
    if draw < faults.malformed + faults.missingField {
      flags.insert(.missingField)
      return .missing(key)
    }
    if draw < faults.malformed + faults.missingField + faults.wrongType {
      flags.insert(.wrongType)
      return .wrongType(key)
    }
    return .none
  }
}
