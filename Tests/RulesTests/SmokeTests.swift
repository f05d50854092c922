import Payload
import Rules
import Testing

@Suite struct SmokeTests {
  @Test func architectureRulesParseAndRun() throws {
    let feed = try Feeder(RulesBenchmark.rules)
    #expect(feed.engine.ruleNames == ["bearing_wear", "overheat"])
    for i in 0..<180 {
      let temp = i >= 60 && i < 120 ? 97.0 : 70.0
      feed.send(
        #"{"device":"motor-1","kind":"motor","vibration":2.0,"temperature":\#(temp)}"#, at: t0 + Int64(i) * 1000)
    }
    feed.closeAll()
    let overheat = feed.alerts.filter { $0.rule == "overheat" }
    #expect(overheat.map(\.state) == [.raised, .cleared])
    #expect(overheat.first?.windowStart == t0 + minute)
    #expect(overheat.first?["t_max"] == .number(97))
    #expect(overheat.first?.mqttTopic == "weir/alerts/overheat/motor-1")
  }
}
