import Ingest
import MQTT
import PartitionedLog
import WeirCore

@testable import Gateway

extension FuzzTargets {
  /// The environment every `config` input is read with: values for `${...}` and two
  /// `WEIR_...__...` overrides, one adding a key and one adding a relative path.
  static let configEnvironment = [
    "PORT": "1883", "HOST": "127.0.0.1", "ID": "edge-7", "WEIR_HTTP__TOKEN": "t0k", "WEIR_GATEWAY__DATA_DIR": "data",
  ]

  /// A configuration file's bytes, decoded as `load` decodes them, through
  /// `GatewayConfig.parse`: either a configuration within every bound or a `ConfigError` whose
  /// problems all have a line and a message. Rule files named in it are only read.
  static func config(_ data: UnsafeRawBufferPointer) {
    let file = "/nonexistent/fuzz/weir.yaml"
    let result: Result<GatewayConfig, ConfigError>
    do {
      let text = try ConfigFile.text(Array(data), file: file)
      result = .success(try GatewayConfig.parse(text, file: file, environment: configEnvironment))
    } catch let error as ConfigError {
      result = .failure(error)
    } catch {
      preconditionFailure("parse threw something other than a ConfigError: \(error)")
    }
    switch result {
    case .failure(let error):
      precondition(!error.problems.isEmpty, "a ConfigError without problems")
      for p in error.problems {
        precondition(p.line > 0, "a problem without a line: \(p)")
        precondition(!p.message.isEmpty, "a problem without a message: \(p)")
      }
    case .success(let config):
      precondition(!config.gatewayID.isEmpty)
      precondition(config.dataDirectory.hasPrefix("/"), "data_dir not resolved: \(config.dataDirectory)")
      precondition(config.ruleFiles.allSatisfy { $0.hasPrefix("/") })
      precondition((1000...3_600_000).contains(config.shutdownTimeoutMs))
      precondition(config.topics.allSatisfy { $0.config.problems().isEmpty })
      let batchLimit = LogOptions().maxBatchBytes
      for source in config.mqttSources {
        precondition(source.problems().isEmpty, "\(source.problems())")
        precondition(source.batchMaxBytes + source.maxPayloadBytes + GatewayConfig.batchOverheadBytes <= batchLimit)
        precondition((5...65535).contains(source.client.keepalive))
        precondition(source.client.tls.map { $0.caFile.hasPrefix("/") } ?? true)
      }
      precondition((1...65535).contains(config.httpPort) && !config.httpHost.isEmpty)
    }
  }

  /// A URL query string through the parsing the records and alerts handlers use: a query within
  /// its bounds that reads back the same from its own query string, or a message for a 400.
  static func httpQuery(_ data: UnsafeRawBufferPointer) {
    let text = String(decoding: data, as: UTF8.self)
    do {
      let limit = try RecordsQuery.alertsLimit(query: text, maximum: AlertIndex.recentCapacity)
      precondition((1...AlertIndex.recentCapacity).contains(limit))
    } catch {
      precondition(!error.message.isEmpty)
    }
    let query: RecordsQuery
    do {
      query = try RecordsQuery(query: text)
    } catch {
      precondition(!error.message.isEmpty)
      return
    }
    precondition((1...RecordsQuery.maxLimit).contains(query.limit))
    precondition(query.offsets.count <= RecordsQuery.maxOffsetPairs)
    precondition(query.offsets.allSatisfy { $0.key >= 0 && $0.value >= 0 })
    var again = "limit=\(query.limit)"
    if query.fromBeginning { again += "&from=beginning" }
    if !query.offsets.isEmpty {
      again +=
        "&offsets=" + query.offsets.sorted { $0.key < $1.key }.map { "\($0.key)%3A\($0.value)" }.joined(separator: ",")
    }
    do {
      let read = try RecordsQuery(query: again)
      precondition(read == query, "\(again) reads back differently")
    } catch {
      preconditionFailure("\(again) is refused: \(error.message)")
    }
  }
}
