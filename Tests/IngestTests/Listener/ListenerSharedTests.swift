import Foundation
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Shared subscriptions (`$share/{group}/{filter}`), checked with paho-mqtt: the members of a
/// group split its messages (each goes to one of them), an ordinary subscription beside them
/// still gets every message, and a group whose members are away keeps its backlog in the log,
/// across a restart of the listener too.
@Suite(.serialized) struct ListenerSharedTests {
  typealias S = ListenerSubscriptionTests

  @Test func theMembersOfAGroupSplitItsMessages() async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let a = try S.subscriber(
      h, port: port, version: "3.1.1", id: "a", subs: "$share/g/sensors/#:1", expect: 0, seconds: 60)
    let b = try S.subscriber(h, port: port, version: "5", id: "b", subs: "$share/g/sensors/#:1", expect: 0, seconds: 60)
    let all = try S.subscriber(h, port: port, id: "all", subs: "sensors/#:1", expect: 4000, seconds: 60)
    for s in [a, b, all] { try await s.ready() }
    #expect(a.granted == [1] && b.granted == [1])
    try await h.devices(port: port, clients: 4, count: 1000, qos: 1).finish()
    try await all.finish()
    let deadline = Date().addingTimeInterval(30)
    while a.messages.count + b.messages.count < 4000 && Date() < deadline {
      try await Task.sleep(for: .milliseconds(50))
    }
    try await Task.sleep(for: .milliseconds(300))  // anything more would be a duplicate
    for s in [a, b] { s.process.signal(SIGKILL) }
    try await h.stop()
    let sa = a.sequences
    let sb = b.sequences
    let shared = (sa.values.flatMap { $0 }.count, sb.values.flatMap { $0 }.count)
    print("shared subscription: a got \(shared.0), b got \(shared.1) of 4000")
    #expect(shared.0 + shared.1 == 4000, "each message to one member: a \(shared.0) + b \(shared.1)")
    #expect(shared.0 > 0 && shared.1 > 0, "both members got some")
    for device in Set(sa.keys).union(sb.keys) {
      let both = (sa[device] ?? []) + (sb[device] ?? [])
      #expect(both.sorted() == Array(0..<1000), "\(device): every reading once between the two")
    }
    #expect(all.sequences.values.map(\.count).sorted() == [1000, 1000, 1000, 1000])
  }

  @Test func aGroupKeepsItsBacklogWhileItsMembersAreAway() async throws {
    let h = try ListenerHarness()
    var port = try await h.start()
    let setup = try S.subscriber(
      h, port: port, version: "5", id: "worker", clean: false, subs: "$share/jobs/sensors/+/telemetry:1", expect: 0,
      seconds: 0.3)
    try await setup.finish()
    try await h.devices(port: port, clients: 2, count: 1000, qos: 1).finish()
    port = try await h.restart()
    try await h.devices(port: port, clients: 2, count: 1000, qos: 1).finish()
    let back = try S.subscriber(h, port: port, version: "5", id: "worker", clean: false, subs: "", expect: 4000)
    try await back.finish()
    try await h.stop()
    #expect(back.lines.first { $0["connack"] != nil }?["session_present"] as? Int == 1)
    let seen = back.sequences
    #expect(seen.count == 4, "two devices in each round")
    #expect(seen.values.map(\.count).reduce(0, +) == 4000, "got \(back.messages.count)")
    for (device, seqs) in seen { #expect(seqs == Array(0..<1000), "\(device): every reading, in order") }
  }
}
