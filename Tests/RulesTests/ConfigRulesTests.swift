import Foundation
import Testing
import Rules

@Suite struct ConfigRulesTests {
  /// The rule files shipped in config/rules must load.
  @Test(arguments: ["motors.sql", "pumps.sql"])
  func shippedRuleFilesLoad(_ name: String) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let path = root.appendingPathComponent("config/rules/\(name)").path
    let source = try String(contentsOfFile: path, encoding: .utf8)
    let (rules, errors) = RuleFile.parse(source, fileName: path)
    #expect(errors.isEmpty, "\(errors)")
    #expect(rules.count == 2)
  }
}
