import Foundation
import Testing
@testable import FirmwareSim

struct DeterminismTests {
  static func fleet(seed: UInt64, faults: FaultRates = FaultRates()) -> FleetSimulator {
    let scenario = try! Scenario.load(path: TestSupport.repositoryRoot.appendingPathComponent("config/fleet/demo.yaml").path)
    return FleetSimulator(
      devices: scenario.devices(), seed: seed, clock: SimClock(startEpochMillis: testStart, speed: 600),
      faults: faults, endMillis: 900_000)
  }

  static var everyFault: FaultRates {
    var rates = FaultRates()
    rates.malformed = 0.02
    rates.missingField = 0.02
    rates.wrongType = 0.02
    rates.duplicate = 0.02
    rates.outOfOrder = 0.02
    rates.late = 0.02
    rates.offline = 0.001
    rates.clockSkew = 0.3
    return rates
  }

  @Test(arguments: [false, true])
  func sameSeedGivesByteIdenticalMessages(withFaults: Bool) {
    let faults = withFaults ? Self.everyFault : FaultRates()
    let first = TestSupport.drain(Self.fleet(seed: 11, faults: faults))
    let second = TestSupport.drain(Self.fleet(seed: 11, faults: faults))
    #expect(first.count > 5000)
    #expect(first.count == second.count)
    #expect(first.map(\.payload) == second.map(\.payload))
    #expect(first.map(\.sendMillis) == second.map(\.sendMillis))
    #expect(first.map(\.device) == second.map(\.device))
  }

  @Test func differentSeedGivesDifferentMessages() {
    let first = TestSupport.drain(Self.fleet(seed: 11))
    let second = TestSupport.drain(Self.fleet(seed: 12))
    let firstPayloads = first.map(\.payload)
    let secondPayloads = second.map(\.payload)
    #expect(firstPayloads != secondPayloads)
    let shared = Set(firstPayloads).intersection(secondPayloads).count
    #expect(shared < firstPayloads.count / 100, "two seeds should share almost no messages")
  }

  @Test func faultsDoNotChangeTheSignals() {
    var faults = FaultRates()
    faults.duplicate = 0.1
    faults.outOfOrder = 0.1
    let clean = TestSupport.drain(Self.fleet(seed: 5))
    let faulty = TestSupport.drain(Self.fleet(seed: 5, faults: faults))
    func readings(_ messages: [FleetMessage]) -> [String: SIMD4<Double>] {
      var byKey: [String: SIMD4<Double>] = [:]
      for message in messages { byKey["\(message.device)@\(message.readingMillis)"] = message.values }
      return byKey
    }
    let cleanReadings = readings(clean)
    let faultyReadings = readings(faulty)
    #expect(cleanReadings.count > 0)
    let withinEnd = cleanReadings.filter { faultyReadings[$0.key] != nil }
    #expect(withinEnd.count >= cleanReadings.count - 50)
    #expect(withinEnd.allSatisfy { faultyReadings[$0.key] == $0.value })
  }

  @Test func messagesComeInSendOrder() {
    let messages = TestSupport.drain(Self.fleet(seed: 3, faults: Self.everyFault))
    #expect(zip(messages, messages.dropFirst()).allSatisfy { $0.sendMillis <= $1.sendMillis })
  }
}
