import Foundation
import Testing
@testable import FirmwareSim

/// Each fault flag produces what it says, at the rate it says: measured from the payloads and
/// send times (what a broker would see), not from the simulator's own bookkeeping.
struct FaultInjectionTests {
  static let deviceCount = 50
  static let seconds: Int64 = 400

  static func run(_ configure: (inout FaultRates) -> Void, seed: UInt64 = 21) -> [FleetMessage] {
    var rates = FaultRates()
    configure(&rates)
    return TestSupport.drain(
      FleetSimulator(
        devices: TestSupport.devices(.motor, count: deviceCount), seed: seed,
        clock: SimClock(startEpochMillis: testStart, speed: 1), faults: rates, endMillis: seconds * 1000))
  }

  static let requiredKeys = ["device", "kind", "ts", "vibration", "temperature", "current", "rpm"]

  @Test func noFaultsMeansEveryPayloadIsCompleteAndTyped() {
    let messages = Self.run { _ in }
    #expect(messages.count == Self.deviceCount * Int(Self.seconds))
    for message in messages {
      let object = TestSupport.jsonObject(message.payload)
      #expect(object != nil)
      #expect(Set(object?.keys.map { $0 } ?? []) == Set(Self.requiredKeys))
      #expect(object?["device"] is String && object?["kind"] as? String == "motor")
      #expect(Self.numericFields(object ?? [:]))
    }
  }

  static func numericFields(_ object: [String: Any]) -> Bool {
    ["ts", "vibration", "temperature", "current", "rpm"].allSatisfy { object[$0] is NSNumber }
  }

  @Test func malformedPayloadsAreNotJSON() {
    let rate = 0.05
    let messages = Self.run { $0.malformed = rate }
    let broken = messages.filter { TestSupport.jsonObject($0.payload) == nil }
    #expect(TestSupport.consistent(observed: broken.count, trials: messages.count, rate: rate))
    #expect(broken.allSatisfy { $0.faults.contains(.malformed) })
    #expect(messages.filter { $0.faults.contains(.malformed) }.count == broken.count)
    // All three kinds of breakage occur.
    let truncated = broken.filter { $0.payload.last != UInt8(ascii: "}") }.count
    let equals = broken.filter { $0.payload.contains(UInt8(ascii: "=")) }.count
    let doubledBrace = broken.filter { $0.payload.prefix(2) == [UInt8(ascii: "{"), UInt8(ascii: "{")] }.count
    #expect(truncated > 0 && equals > 0 && doubledBrace > 0)
  }

  @Test func missingFieldLeavesOutExactlyOneKey() {
    let rate = 0.05
    let messages = Self.run { $0.missingField = rate }
    var missingKeys: [String: Int] = [:]
    var incomplete = 0
    for message in messages {
      let object = TestSupport.jsonObject(message.payload)!
      let missing = Set(Self.requiredKeys).subtracting(object.keys)
      #expect(missing.count <= 1)
      if let key = missing.first {
        incomplete += 1
        missingKeys[key, default: 0] += 1
      }
    }
    #expect(TestSupport.consistent(observed: incomplete, trials: messages.count, rate: rate))
    // Any of device, ts and the four measurements can go missing; kind never does.
    #expect(Set(missingKeys.keys) == Set(Self.requiredKeys).subtracting(["kind"]))
  }

  @Test func wrongTypeChangesExactlyOneValueType() {
    let rate = 0.05
    let messages = Self.run { $0.wrongType = rate }
    var wrong = 0
    for message in messages {
      let object = TestSupport.jsonObject(message.payload)!
      #expect(Set(object.keys) == Set(Self.requiredKeys))
      var mistyped = ["ts", "vibration", "temperature", "current", "rpm"].filter { object[$0] is String }
      if object["device"] is NSNumber { mistyped.append("device") }
      #expect(mistyped.count <= 1)
      if !mistyped.isEmpty { wrong += 1 }
    }
    #expect(TestSupport.consistent(observed: wrong, trials: messages.count, rate: rate))
  }

  @Test func duplicatesAreIdenticalBytesBackToBack() {
    let rate = 0.05
    let messages = Self.run { $0.duplicate = rate }
    var repeats = 0
    var lastPayload: [Int: [UInt8]] = [:]
    for message in messages {
      if lastPayload[message.device] == message.payload { repeats += 1 }
      lastPayload[message.device] = message.payload
    }
    let readings = Self.deviceCount * Int(Self.seconds)
    #expect(messages.count == readings + repeats)
    #expect(TestSupport.consistent(observed: repeats, trials: readings, rate: rate))
  }

  @Test func outOfOrderMessagesArriveAfterALaterOne() {
    let rate = 0.05
    let messages = Self.run { $0.outOfOrder = rate }
    var newest: [String: Int64] = [:]
    var behind = 0
    for message in messages {
      let object = TestSupport.jsonObject(message.payload)!
      let device = object["device"] as! String
      let ts = (object["ts"] as! NSNumber).int64Value
      if let seen = newest[device], ts < seen {
        behind += 1
        #expect(seen - ts == 1000, "held back by exactly one reading")
      }
      newest[device] = max(newest[device] ?? .min, ts)
    }
    // A message held back at the very end of the run is never sent.
    #expect(messages.count <= Self.deviceCount * Int(Self.seconds))
    #expect(TestSupport.consistent(observed: behind, trials: messages.count, rate: rate))
  }

  @Test func lateMessagesArriveLateByTheConfiguredDelay() {
    let rate = 0.05
    let messages = Self.run {
      $0.late = rate
      $0.lateBySeconds = 30
    }
    // Lateness as a broker sees it: arrival (send time) minus the payload's timestamp.
    let lateness = messages.map { message -> Int64 in
      let ts = (TestSupport.jsonObject(message.payload)!["ts"] as! NSNumber).int64Value
      return testStart + message.sendMillis - ts
    }
    let late = lateness.filter { $0 != 0 }
    #expect(late.allSatisfy { $0 == 30_000 })
    // Readings in the last 30 s that were to be late never arrive: count trials up to there.
    let eligible = messages.filter { $0.readingMillis < (Self.seconds - 30) * 1000 }
    let eligibleLate = zip(messages, lateness).filter { $0.0.readingMillis < (Self.seconds - 30) * 1000 && $0.1 != 0 }.count
    #expect(TestSupport.consistent(observed: eligibleLate, trials: eligible.count, rate: rate))
  }

  @Test func offlineDevicesBufferThenBurst() throws {
    let rate = 0.01
    let outage: Int64 = 20
    let messages = Self.run {
      $0.offline = rate
      $0.offlineSeconds = Double(outage)
    }
    // Group by device; a burst is a run of messages sent at one instant carrying older readings.
    var bursts = 0
    var offlineReadings = 0
    var byDevice: [String: [(send: Int64, ts: Int64)]] = [:]
    for message in messages {
      let object = TestSupport.jsonObject(message.payload)!
      byDevice[object["device"] as! String, default: []].append((message.sendMillis, (object["ts"] as! NSNumber).int64Value - testStart))
    }
    var readings = 0
    for (_, stream) in byDevice {
      let delayed = stream.filter { $0.ts < $0.send }
      let groups = Dictionary(grouping: delayed, by: \.send)
      for (send, group) in groups {
        bursts += 1
        // The burst replays the outage in order: readings from the whole outage, oldest first.
        #expect(group.map(\.ts) == group.map(\.ts).sorted())
        #expect(send - group[0].ts >= outage * 1000)
        offlineReadings += group.count - 1
      }
      // Readings never sent because the run ended during an outage.
      let expected = Int((Self.seconds * 1000 - stream[0].ts) / 1000) + 1
      let missing = expected - stream.count
      if missing > 0 {
        bursts += 1
        offlineReadings += missing - 1
      }
      readings += expected
    }
    // Each online reading is a trial for going offline.
    let onlineReadings = readings - offlineReadings
    #expect(bursts > 20)
    #expect(TestSupport.consistent(observed: bursts, trials: onlineReadings, rate: rate))
  }

  @Test func clockSkewAffectsTheConfiguredFractionOfDevices() throws {
    let rate = 0.3
    var rates = FaultRates()
    rates.clockSkew = rate
    rates.clockSkewMaxSeconds = 60
    let simulator = FleetSimulator(
      devices: TestSupport.devices(.env, count: 1000, intervalSeconds: 1), seed: 8,
      clock: SimClock(startEpochMillis: testStart, speed: 1), faults: rates, endMillis: 3000)
    var skews: [String: Set<Int64>] = [:]
    for message in TestSupport.drain(simulator) {
      let object = TestSupport.jsonObject(message.payload)!
      let ts = (object["ts"] as! NSNumber).int64Value
      skews[object["device"] as! String, default: []].insert(ts - (testStart + message.sendMillis))
    }
    #expect(skews.count == 1000)
    #expect(skews.values.allSatisfy { $0.count == 1 }, "a device's skew is constant")
    let skewed = skews.values.compactMap(\.first).filter { $0 != 0 }
    #expect(TestSupport.consistent(observed: skewed.count, trials: 1000, rate: rate))
    #expect(skewed.allSatisfy { abs($0) >= 6000 && abs($0) <= 60_000 })
    #expect(skewed.contains { $0 > 0 } && skewed.contains { $0 < 0 })
  }

  @Test func ratesOutOfRangeAreRejected() {
    var rates = FaultRates()
    rates.duplicate = 1.5
    rates.malformed = 0.6
    rates.missingField = 0.6
    #expect(rates.problems().count == 2)
  }
}
