import Foundation
import Ingest
import MQTT
import Testing
import Uplink
import WeirCore
import WeirTestSupport

@testable import Gateway

/// Paths in a configuration start at the configuration file's directory, whatever the working
/// directory and however the file itself was named.
@Suite struct ConfigPathsTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  @Test(arguments: [
    ("weir.yaml", "/etc/weir", "/etc/weir/weir.yaml"), ("../x/y.yaml", "/a/b", "/a/x/y.yaml"),
    ("/abs/./c/../w.yaml", "/ignored", "/abs/w.yaml"), ("./w.yaml", "/", "/w.yaml"), ("a//b", "/r/", "/r/a/b"),
    ("..", "/", "/"), ("../../../../w.yaml", "/a", "/w.yaml"), ("", "/a/b", "/a/b"),
  ])
  func absolute(_ path: String, _ base: String, _ expected: String) {
    #expect(ConfigPaths.absolute(path, in: base) == expected)
  }

  @Test(arguments: [
    ("weir.yaml", "/work/config", "/work/config"), ("config/weir.yaml", "/work", "/work/config"),
    ("/etc/weir/weir.yaml", "/", "/etc/weir"), ("weir.yaml", "/", "/"),
  ])
  func theDirectoryOfABareFileName(_ file: String, _ cwd: String, _ directory: String) {
    let paths = ConfigPaths(file: file, workingDirectory: cwd)
    #expect(paths.directory == directory)
    #expect(paths.resolve("rules/motors.sql") == (directory == "/" ? "" : directory) + "/rules/motors.sql")
    #expect(paths.resolve("/abs/r.sql") == "/abs/r.sql")
  }

  /// The reported defect: `weir config check weir.yaml` in config/ looked for `/rules/motors.sql`.
  @Test(arguments: [
    ("config", "weir.yaml"), ("config/rules", "../weir.yaml"), (".", "config/weir.yaml"), ("/", "CONFIG/weir.yaml"),
  ])
  func configCheckFindsTheRuleFilesFromAnyDirectory(_ cwd: String, _ file: String) throws {
    let dir = cwd == "/" ? "/" : cwd == "." ? Self.repository : Self.repository + "/" + cwd
    let argument = file.replacingOccurrences(of: "CONFIG", with: Self.repository + "/config")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: builtExecutable("weir"))
    process.arguments = ["config", "check", argument]
    process.currentDirectoryURL = URL(fileURLWithPath: dir)
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(text)")
    #expect(text.contains("2 rule files"), "\(text)")
  }

  @Test func everyFilePathStartsAtTheConfigDirectory() throws {
    let dir = NSTemporaryDirectory() + "weir-paths-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.copyItem(atPath: Self.repository + "/config/rules/motors.sql", toPath: dir + "/rules/r.sql")
    let yaml = """
      gateway: {id: e, data_dir: data}
      mqtt:
        - broker: mqtts://b:8883
          tls: {ca_file: certs/ca.pem, cert_file: /etc/c.pem, key_file: ../k.pem}
          subscriptions: [{filter: a}]
      uplinks:
        - name: central
          kind: kafka
          bootstrap: "k:9092"
          topics: [t]
          properties: {ssl.ca.location: certs/ca.pem, ssl.key.location: /abs/k.pem, sasl.kerberos.keytab: k.tab, client.id: c.pem}
      rules: {files: [rules/r.sql]}
      """
    try yaml.write(toFile: dir + "/w.yaml", atomically: true, encoding: .utf8)
    let config = try GatewayConfig.load(path: dir + "/./w.yaml", environment: [:])
    let real = ConfigPaths.absolute(dir, in: "/")
    #expect(config.file == real + "/w.yaml")
    #expect(config.dataDirectory == real + "/data")
    #expect(config.ruleFiles == [real + "/rules/r.sql"])
    let tls = try #require(config.mqttSources.first?.client.tls)
    #expect(tls.caFile == real + "/certs/ca.pem" && tls.certFile == "/etc/c.pem")
    #expect(tls.keyFile == ConfigPaths.absolute("../k.pem", in: real))
    guard case .kafka(let kafka) = config.uplinks.first else {
      Issue.record("no kafka uplink")
      return
    }
    #expect(kafka.properties["ssl.ca.location"] == real + "/certs/ca.pem")
    #expect(kafka.properties["ssl.key.location"] == "/abs/k.pem")
    #expect(kafka.properties["sasl.kerberos.keytab"] == real + "/k.tab")
    #expect(kafka.properties["client.id"] == "c.pem", "not a file property")
  }

  @Test func aRelativeFileNameStartsAtTheWorkingDirectory() throws {
    let config = try GatewayConfig.parse("gateway: {id: e, data_dir: d}\n", file: "sub/w.yaml")
    #expect(config.dataDirectory == ConfigPaths.absolute("sub/d", in: FileManager.default.currentDirectoryPath))
  }

  @Test func ruleFilesAreBoundedAndMustBeText() throws {
    let dir = NSTemporaryDirectory() + "weir-rulesize-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Data(repeating: 0x20, count: ConfigLimits.ruleFileBytes + 1).write(to: URL(fileURLWithPath: dir + "/big.sql"))
    try Data("-- ok\n-- \u{e9}\n".utf8 + [0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir + "/latin1.sql"))
    try FileManager.default.createDirectory(atPath: dir + "/folder.sql", withIntermediateDirectories: true)
    let yaml = "gateway: {id: e}\nrules:\n  files:\n    - big.sql\n    - latin1.sql\n    - folder.sql\n"
    do {
      _ = try GatewayConfig.parse(yaml, file: dir + "/w.yaml")
      Issue.record("accepted")
    } catch let error as ConfigError {
      let text = error.problems.map(\.description)
      #expect(
        text.contains {
          $0.contains(
            "w.yaml:4: rules.files[0]: cannot read \(dir)/big.sql: the file is \(ConfigLimits.ruleFileBytes + 1) bytes")
        }, "\(text)")
      #expect(text.contains { $0.hasPrefix(dir + "/latin1.sql:3: the file is not UTF-8") }, "\(text)")
      #expect(
        text.contains { $0.contains("w.yaml:6: rules.files[2]: cannot read \(dir)/folder.sql: it is a directory") },
        "\(text)")
    }
  }

  @Test func loadRefusesLargeAndNonUTF8Files() throws {
    let dir = NSTemporaryDirectory() + "weir-cfgfile-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Data(repeating: 0x0A, count: ConfigLimits.fileBytes + 1).write(to: URL(fileURLWithPath: dir + "/big.yaml"))
    try Data("gateway:\n  id: e\n  data_dir: /d".utf8 + [0xC3, 0x28] + Array("\n".utf8)).write(
      to: URL(fileURLWithPath: dir + "/bad.yaml"))
    for (name, expected) in [
      ("big.yaml", "big.yaml:0: the file is \(ConfigLimits.fileBytes + 1) bytes; a configuration may have at most"),
      ("bad.yaml", "bad.yaml:3: the file is not UTF-8"),
      ("missing.yaml", "missing.yaml:0: cannot read the file: No such file"),
    ] {
      do {
        _ = try GatewayConfig.load(path: dir + "/" + name, environment: [:])
        Issue.record("\(name) accepted")
      } catch let error as ConfigError {
        #expect(error.description.contains(expected), "\(error)")
      }
    }
  }
}
