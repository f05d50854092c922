import Foundation
public import Logging
import Payload
import Synchronization

/// swift-log handler writing one JSON object per line to standard error:
/// `{"ts":"2026-11-22T10:00:00.123Z","level":"info","logger":"weir.uplink","msg":"...","key":"value"}`.
public struct JSONLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level = .info
  let label: String
  private static let lock = Mutex<Void>(())

  public init(label: String) { self.label = label }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    let json = JSONWriter.object()
    json.add("ts", Self.timestamp())
    json.add("level", event.level.rawValue)
    json.add("logger", label)
    json.add("msg", event.message.description)
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    for (k, v) in merged.sorted(by: { $0.key < $1.key }) { json.add(k, "\(v)") }
    if event.level >= .error { json.add("source", "\(event.file):\(event.line)") }
    let line = json.result + "\n"
    Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
  }

  static func timestamp() -> String {
    var tv = timeval()
    gettimeofday(&tv, nil)
    var t = tv.tv_sec
    var parts = tm()
    gmtime_r(&t, &parts)
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
      parts.tm_hour,
      parts.tm_min, parts.tm_sec, Int32(tv.tv_usec / 1000))
  }
}
