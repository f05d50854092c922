import Gateway
import PartitionedLog
import Testing
import WeirCore

/// What the environment writes into a configuration keeps a line: a replaced value keeps the
/// line of the value it replaces, and an added key takes the line of the mapping it joins.
@Suite struct ConfigEnvironmentTests {
  static let yaml = """
    gateway: {id: e}
    log:
      min_free: 1GiB
    uplinks:
      - {name: c, kind: kafka, bootstrap: "k:9092", topics: [t]}
    """

  @Test(arguments: [
    (["WEIR_LOG__MIN_FREE": "lots"], "w.yaml:3: log.min_free: expected a size"),
    (["WEIR_LOG__COLOUR": "red"], "w.yaml:3: log.colour: unknown key"),
    (["WEIR_FOO__BAR": "1"], "w.yaml:1: foo: unknown key"),
    (["WEIR_UPLINKS__3__NAME": "x"], "w.yaml:5: WEIR_UPLINKS__3__NAME: the list here has 1 entries, so '3' names none"),
    (["WEIR_GATEWAY__ID__X": "1"], "w.yaml:1: WEIR_GATEWAY__ID__X: the value here is not a mapping"),
    (["WEIR_UPLINKS__0__LINGER": "1e30s"], "w.yaml:5: uplinks[0].linger: expected a duration"),
    (["WEIR_UPLINKS__0__TLS__CA_FILE": "ca.pem"], "w.yaml:5: uplinks[0].tls: unknown key"),
  ])
  func overridesKeepALine(_ environment: [String: String], _ expected: String) {
    do {
      _ = try GatewayConfig.parse(Self.yaml, file: "w.yaml", environment: environment)
      Issue.record("accepted")
    } catch let error as ConfigError {
      #expect(error.problems.allSatisfy { $0.line > 0 }, "\(error)")
      #expect(error.description.contains(expected), "\(error)")
    } catch {
      Issue.record("\(error)")
    }
  }

  @Test func substitutionProblemsAreAtTheirValue() {
    let yaml = "gateway: {id: e}\nhttp:\n  listen: \"127.0.0.1:${PORT}\"\n  token: \"${TOKEN\"\n"
    do {
      _ = try GatewayConfig.parse(yaml, file: "w.yaml", environment: [:])
      Issue.record("accepted")
    } catch {
      let text = "\(error)"
      #expect(text.contains("w.yaml:3: http.listen: environment variable PORT is not set"), "\(text)")
      #expect(text.contains("w.yaml:4: http.token: '${' without a closing '}'"), "\(text)")
    }
  }

  /// Substitution walks the tree once, replacing in place: many values do not make it quadratic.
  @Test func substitutionInManyValues() throws {
    let topics = (0..<3000).map { "  t\($0): {partitions: \"${P}\"}\n" }.joined()
    let config = try GatewayConfig.parse(
      "gateway: {id: e}\ntopics:\n" + topics, file: "w.yaml", environment: ["P": "3"])
    #expect(config.topics.count == 3000 && config.topics.allSatisfy { $0.config.partitions == 3 })
  }
}
