import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Reads the files a configuration consists of (the configuration itself, its rule files, the
/// listener's password and ACL files) within a size limit: a file past it is refused before it is
/// read, so a mistaken path such as a log or a device cannot make the check slow or large. Holds
/// at most `limit + 1` bytes while reading.
public enum ConfigFile {
  /// The UTF-8 text of the regular file at `path`, at most `limit` bytes. `what` names the file
  /// in messages ("a configuration", "a rule file"). Problems that are not at a line of the file
  /// (it cannot be opened or is too large) are at line 0.
  public static func read(_ path: String, limit: Int, what: String) throws(ConfigError) -> String {
    let name = path
    func refuse(_ line: Int, _ message: String) -> ConfigError {
      ConfigError(file: name, line: line, key: "", message)
    }
    // attributesOfItem describes a symbolic link itself, not the file it points to.
    let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: target) else {
      let reason = access(path, F_OK) == 0 ? "cannot get its attributes" : String(cString: strerror(errno))
      throw refuse(0, "cannot read the file: \(reason)")
    }
    let type = attributes[.type] as? FileAttributeType
    guard type == .typeRegular else {
      throw refuse(
        0,
        type == .typeDirectory
          ? "cannot read the file: it is a directory" : "cannot read the file: it is not a regular file")
    }
    let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
    guard size <= limit else {
      throw refuse(0, "the file is \(size) bytes; \(what) may have at most \(limit) (\(limit >> 20) MiB)")
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw refuse(0, "cannot read the file: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    // Read up to one byte past the limit: the file may have grown since it was measured.
    var bytes = [UInt8](repeating: 0, count: limit + 1)
    var count = 0
    while count < bytes.count {
      let n = bytes.withUnsafeMutableBytes { buffer -> Int in
        guard let base = buffer.baseAddress else { return 0 }
        return Glibc.read(fd, base + count, buffer.count - count)
      }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw refuse(0, "cannot read the file: \(String(cString: strerror(errno)))") }
      if n == 0 { break }
      count += n
    }
    guard count <= limit else { throw refuse(0, "the file is larger than \(limit) bytes, the most \(what) may have") }
    bytes.removeSubrange(count...)
    return try text(bytes, file: name)
  }

  /// `bytes` as text, or the line of the first byte that is not UTF-8.
  public static func text(_ bytes: [UInt8], file: String) throws(ConfigError) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    loop: while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let scalar): offset += scalar.count
      case .error(let length):
        _ = length
        break loop
      case .emptyInput: break loop
      }
    }
    let lineNumber = bytes.withUnsafeBufferPointer { Self.line(atOffset: offset, in: $0) }
    throw ConfigError(
      file: file, line: lineNumber, key: "",
      "the file is not UTF-8 text (byte \(offset) is not part of a UTF-8 character)")
  }

  /// The 1-based line holding byte `offset`, counting `\n`, `\r\n` and `\r` breaks as libyaml does.
  public static func line(atOffset offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var line = 1
    var i = 0
    while i < offset && i < bytes.count {
      if bytes[i] == 0x0A || (bytes[i] == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A)) { line += 1 }
      i += 1
    }
    return line
  }
}
