import Foundation
import Testing
@testable import FirmwareSim

struct ScenarioTests {
  static let fleetDirectory = TestSupport.repositoryRoot.appendingPathComponent("config/fleet")

  @Test func demoFleetIsTwentyMotorsAndFivePumpsWithTwoFailuresInTheFirstHour() throws {
    let scenario = try Scenario.load(path: Self.fleetDirectory.appendingPathComponent("demo.yaml").path)
    let devices = scenario.devices()
    #expect(devices.filter { $0.kind == .motor }.count == 20)
    #expect(devices.filter { $0.kind == .pump }.count == 5)
    let degrading = devices.filter { $0.degradation != nil }
    #expect(degrading.count == 2)
    #expect(degrading.allSatisfy { $0.degradation!.failureMillis <= 3_600_000 })
    #expect(Set(degrading.map { $0.degradation!.mode }).count == 2)
    guard case .fixed = scenario.start else {
      Issue.record("the demo starts at a fixed time, so a seed pins every message")
      return
    }
    #expect(devices.first?.id == "motor-0001" && devices.last?.id == "pump-0005")
  }

  @Test func everyShippedScenarioLoads() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.fleetDirectory.path).filter { $0.hasSuffix(".yaml") }
    #expect(files.count >= 3)
    for file in files {
      let scenario = try Scenario.load(path: Self.fleetDirectory.appendingPathComponent(file).path)
      #expect(scenario.problems().isEmpty, "\(file)")
    }
  }

  @Test func degradationScenarioCoversEveryFailureMode() throws {
    let scenario = try Scenario.load(path: Self.fleetDirectory.appendingPathComponent("degradation.yaml").path)
    #expect(Set(scenario.failures.map(\.scenario)) == Set(FailureMode.allCases))
  }

  @Test func groundTruthLinesAreJSON() throws {
    let scenario = try Scenario.load(path: Self.fleetDirectory.appendingPathComponent("demo.yaml").path)
    let simulator = FleetSimulator(
      devices: scenario.devices(), seed: 1, clock: SimClock(startEpochMillis: testStart, speed: 1),
      faults: FaultRates(), endMillis: 1000)
    let lines = GroundTruthRecord.jsonLines(simulator.groundTruth).split(separator: "\n")
    #expect(lines.count == 2)
    for line in lines {
      let object = try #require(TestSupport.jsonObject(Array(line.utf8)))
      #expect(object["device"] is String)
      #expect(object["scenario"] is String)
      #expect((object["failure_ts"] as? NSNumber)?.int64Value ?? 0 > (object["onset_ts"] as? NSNumber)?.int64Value ?? .max)
    }
  }

  @Test(arguments: [
    ("devices: []\n", "devices"),
    ("devices:\n  - kind: motor\n    count: 2\nscenarios:\n  - {device: motor-0009, scenario: bearing_wear, onset_s: 1, failure_s: 2}\n", "scenarios[0].device"),
    ("devices:\n  - kind: pump\n    count: 1\nscenarios:\n  - {device: pump-0001, scenario: bearing_wear, onset_s: 1, failure_s: 2}\n", "scenarios[0].scenario"),
    ("devices:\n  - kind: motor\n    count: 1\nscenarios:\n  - {device: motor-0001, scenario: overheating, onset_s: 5, failure_s: 2}\n", "scenarios[0].failure_s"),
    ("devices:\n  - kind: motor\n    count: 1\n    qos: 2\n", "devices[0].qos"),
    ("devices:\n  - kind: toaster\n    count: 1\n", "devices[0].kind"),
    ("devices:\n  - count: 1\n", "devices[0].kind"),
    ("start: yesterday\ndevices:\n  - kind: motor\n    count: 1\n", "start"),
    ("devices:\n  - kind: motor\n    count: 1\nfaults:\n  duplicate: 2\n", "faults"),
  ])
  func errorsNameTheKey(yaml: String, key: String) {
    do {
      _ = try Scenario.parse(yaml: yaml, file: "bad.yaml")
      Issue.record("accepted: \(yaml)")
    } catch {
      #expect(error.file == "bad.yaml")
      #expect(error.key == key, "\(error)")
    }
  }

  @Test(arguments: [
    ("2026-01-05T06:00:00Z", Int64(1_767_592_800_000)), ("1970-01-01T00:00:00Z", 0),
    ("2000-02-29T12:34:56.789Z", 951_827_696_789), ("1767592800000", 1_767_592_800_000),
  ])
  func startTimes(text: String, millis: Int64) {
    #expect(Scenario.epochMillis(text) == millis)
  }
}
