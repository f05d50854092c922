import ArgumentParser
import Foundation
import Gateway
import WeirCore

struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config", abstract: "Work with configuration files.", subcommands: [Check.self])

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check a configuration file; print every problem with its file and line (exit 2), or a summary.")

    @Argument(help: "The YAML file, e.g. config/weir.yaml.")
    var file: String

    func run() throws {
      do {
        let config = try GatewayConfig.load(path: file)
        for warning in config.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        print(
          "\(file): ok: gateway \(config.gatewayID), data in \(config.dataDirectory), \(config.topics.count) topics, "
            + "\(config.mqttSources.count) MQTT sources, \(config.serialSources.count + config.modbusSources.count) serial sources, "
            + "\(config.uplinks.count) uplinks, \(config.ruleFiles.count) rule files")
      } catch let error as ConfigError {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(2)
      }
    }
  }
}
