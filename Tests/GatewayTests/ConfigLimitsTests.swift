import Foundation
import Gateway
import Testing
import WeirCore

/// The bounds a configuration is read within (``ConfigLimits``): each is exact, refuses with a
/// message that names it, and refuses quickly.
@Suite struct ConfigLimitsTests {
  /// The problems `text` is refused with (none when it is accepted).
  static func problems(_ text: String, environment: [String: String] = [:]) -> [ConfigProblem] {
    do {
      _ = try GatewayConfig.parse(text, file: "/nonexistent/w.yaml", environment: environment)
      return []
    } catch let error as ConfigError {
      return error.problems
    } catch {
      return [ConfigProblem(file: "?", line: 0, key: "", message: "unexpected \(error)")]
    }
  }

  static func seconds(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let d = clock.measure(body)
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
  }

  @Test func billionLaughsIsRefusedBeforeAnyTreeIsBuilt() {
    var text = "gateway: {id: e}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in 1...9 {
      text += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    var found: [ConfigProblem] = []
    let t = Self.seconds { found = Self.problems(text) }
    #expect(t < 1, "took \(t) s")
    #expect(found.count == 1)
    #expect(found.first?.message.contains("more than \(ConfigLimits.nodes) YAML nodes") == true, "\(found)")
    #expect((found.first?.line ?? 0) > 1)
  }

  @Test func twoHundredThousandKeysAreRefusedQuickly() {
    let text = "gateway: {id: e}\n" + (0..<200_000).map { "k\($0): \($0)\n" }.joined()
    var found: [ConfigProblem] = []
    let t = Self.seconds { found = Self.problems(text) }
    #expect(t < 1, "took \(t) s")
    #expect(
      found.map(\.message) == ["the file is \(text.utf8.count) bytes; a configuration may have at most 1048576 (1 MiB)"]
    )
    #expect(found.first?.line == 1)
  }

  @Test func aMebibyteOfKeysIsRefusedByTheNodeCount() {
    var text = "gateway: {id: e}\n"
    var i = 0
    while text.utf8.count < ConfigLimits.fileBytes - 20 {
      text += "k\(i): 1\n"
      i += 1
    }
    var found: [ConfigProblem] = []
    let t = Self.seconds { found = Self.problems(text) }
    #expect(t < 2, "took \(t) s")
    #expect(found.count == 1 && found[0].message.contains("YAML nodes"), "\(found.prefix(3))")
  }

  /// Root mapping, `gateway`, its mapping, `id`, `e`, `x` and the list: 7 nodes before the entries.
  @Test(arguments: [(ConfigLimits.nodes - 7, true), (ConfigLimits.nodes - 6, false)])
  func theNodeLimitIsExact(_ entries: Int, _ withinLimit: Bool) {
    let text = "gateway: {id: e}\nx: [" + Array(repeating: "1", count: entries).joined(separator: ",") + "]\n"
    let found = Self.problems(text)
    let refusedBySize = found.contains { $0.message.contains("YAML nodes") }
    #expect(refusedBySize == !withinLimit, "\(found.prefix(2))")
    if withinLimit { #expect(found.map(\.key) == ["x"]) }  // read, and x is unknown
  }

  /// The root mapping is level 1, so `x:` holds at most 63 nested lists.
  @Test(arguments: [(63, true), (64, false), (10_000, false), (400_000, false)])
  func theDepthLimitIsExact(_ lists: Int, _ withinLimit: Bool) {
    let text =
      "gateway: {id: e}\nx: " + String(repeating: "[", count: lists) + String(repeating: "]", count: lists) + "\n"
    let found = Self.problems(text)
    let refused = found.first { $0.message.contains("nested more than \(ConfigLimits.depth) levels") }
    #expect((refused == nil) == withinLimit, "\(found.prefix(2))")
    if let refused { #expect(refused.line == 2 && refused.key.hasPrefix("x")) }
  }

  @Test func blockNestingCountsToo() {
    var text = "gateway: {id: e}\nx:\n"
    for level in 1...70 { text += String(repeating: " ", count: level) + "- \n" }
    text += String(repeating: " ", count: 71) + "v: 1\n"
    let found = Self.problems(text)
    #expect(found.contains { $0.message.contains("nested more than") && $0.line > 2 }, "\(found.prefix(2))")
  }

  /// Aliases reuse a subtree, so their depth adds to where they are used: a chain of them cannot
  /// build a tree deeper than the limit from a small text.
  @Test func aliasesCountTowardsTheDepth() {
    let deep = String(repeating: "[", count: 40) + "1" + String(repeating: "]", count: 40)
    let text =
      "gateway: {id: e}\na: &a \(deep)\nb: " + String(repeating: "[", count: 30) + "*a"
      + String(repeating: "]", count: 30) + "\n"
    let found = Self.problems(text)
    #expect(found.contains { $0.message.contains("(aliases included)") && $0.line == 3 }, "\(found.prefix(2))")
  }

  @Test func anAliasWithoutItsAnchorIsAProblemAtItsLine() {
    let found = Self.problems("gateway: {id: e}\nlog:\n  min_free: *nowhere\n")
    #expect(
      found.map(\.description) == ["/nonexistent/w.yaml:3: log.min_free: the alias *nowhere names no anchor before it"])
  }

  @Test(arguments: ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
  func anEmptyFileNeedsAGateway(_ text: String) {
    let found = Self.problems(text)
    #expect(!found.isEmpty && found.allSatisfy { $0.line > 0 }, "\(found)")
    #expect(found.contains { $0.key == "gateway" || $0.message.contains("expected a mapping") }, "\(found)")
  }

  @Test func theEnvironmentCanFillAnEmptyFile() throws {
    let config = try GatewayConfig.parse("", file: "/nonexistent/w.yaml", environment: ["WEIR_GATEWAY__ID": "edge-9"])
    #expect(config.gatewayID == "edge-9")
  }

  /// Duplicate keys that are not text (`? [a]`) are left to Yams, whose error carries a mark.
  @Test func duplicateComplexKeysAreAtALine() {
    let found = Self.problems("gateway: {id: e}\nx:\n  ? [a]\n  : 1\n  ? [a]\n  : 2\n")
    #expect(found.count == 1 && found[0].line >= 3 && found[0].message.contains("duplicate keys"), "\(found)")
  }

  @Test func aSecondDocumentIsRefused() {
    let found = Self.problems("gateway: {id: e}\n---\ngateway: {id: f}\n")
    #expect(found.count == 1 && found[0].line == 2 && found[0].message.contains("one YAML document"), "\(found)")
  }

  @Test(arguments: [("gateway: {id: e}\nlog: {min_free: \"a\u{7}b\"}\n", 2), ("gateway: {id: e}\n\n\u{1}x: 1\n", 3)])
  func controlCharactersAreRefusedAtTheirLine(_ text: String, _ line: Int) {
    let found = Self.problems(text)
    #expect(found.count == 1 && found[0].line == line && found[0].message.contains("not valid YAML"), "\(found)")
  }

  /// A subscription's problems are found by checking it alone, not by matching every message
  /// against every filter (12000 distinct bad filters took two minutes that way).
  @Test func manyBadSubscriptionsAreEachReportedAtTheirOwnLine() {
    let count = 12_000
    let text =
      "gateway: {id: e}\nmqtt:\n  - subscriptions:\n" + (0..<count).map { "    - {filter: \"a/#/\($0)\"}\n" }.joined()
    var found: [ConfigProblem] = []
    let t = Self.seconds { found = Self.problems(text) }
    let filterProblems = found.filter { $0.message.contains("'#' must be a whole last level") }
    #expect(filterProblems.count == count)
    #expect(filterProblems.last?.key == "mqtt[0].subscriptions[\(count - 1)]" && filterProblems.last?.line == count + 3)
    #expect(filterProblems.last?.message.contains("'a/#/\(count - 1)'") == true)
    #expect(t < 10, "took \(t) s")
  }

  /// The work is linear in the file: four times the keys take well under sixteen times as long.
  @Test func readingIsLinearInTheNumberOfKeys() {
    func time(_ n: Int) -> Double {
      let text = "gateway: {id: e}\ntopics:\n" + (0..<n).map { "  t\($0): {partitions: 2}\nx\($0): 1\n" }.joined()
      return Self.seconds { _ = Self.problems(text) }
    }
    _ = time(500)
    let small = time(2500)
    let large = time(10_000)
    #expect(large < small * 10 + 0.5, "2500 keys: \(small) s, 10000 keys: \(large) s")
  }
}
