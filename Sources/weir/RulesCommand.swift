import ArgumentParser
import Foundation
import Gateway

struct RulesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rules", abstract: "Work with rule files offline.", subcommands: [Test.self])

  struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run rules over JSON-lines records and print the alerts as JSON lines.")

    @Argument(help: "A rule file (CREATE RULE ...;).")
    var rules: String
    @Option(help: "JSON lines: {\"timestamp\": ms or RFC 3339, \"key\": \"...\", \"value\": {...}}.")
    var input: String
    @Option(help: "The topic the records are on.")
    var topic: String = "telemetry"

    func run() throws {
      try RulesTools.test(rulesFile: rules, inputFile: input, topic: topic) { print($0) }
    }
  }
}

struct RulesBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rules", abstract: "Run the two rules of the architecture over generated events.")

  @Option(help: "Events to generate.")
  var events: Int = 10_000_000
  @Option(help: "Distinct device keys.")
  var keys: Int = 1000

  func run() throws {
    FileHandle.standardError.write(Data("evaluating \(events) events over \(keys) keys\n".utf8))
    print(try RulesTools.bench(events: events, keys: keys))
  }
}
