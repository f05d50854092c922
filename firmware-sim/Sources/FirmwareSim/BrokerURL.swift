import Foundation

/// An MQTT broker address: `mqtt://[user[:password]@]host[:port]` (also `tcp://`). The port
/// defaults to 1883; user and password may be percent-encoded; IPv6 hosts go in brackets.
public struct BrokerURL: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int32
  public var username: String?
  public var password: String?

  public init(host: String, port: Int32 = 1883, username: String? = nil, password: String? = nil) {
    self.host = host
    self.port = port
    self.username = username
    self.password = password
  }

  /// Parse a broker URL.
  public init(parsing text: String) throws(BrokerURLError) {
    var rest = Substring(text)
    guard let schemeEnd = rest.range(of: "://") else {
      throw BrokerURLError(url: text, reason: "expected mqtt://host:port")
    }
    let scheme = rest[..<schemeEnd.lowerBound].lowercased()
    guard scheme == "mqtt" || scheme == "tcp" else {
      throw BrokerURLError(url: text, reason: "unsupported scheme '\(scheme)' (use mqtt://)")
    }
    rest = rest[schemeEnd.upperBound...]
    if let slash = rest.firstIndex(of: "/") {
      guard rest[slash...].allSatisfy({ $0 == "/" }) else {
        throw BrokerURLError(url: text, reason: "a broker URL has no path")
      }
      rest = rest[..<slash]
    }
    if let at = rest.lastIndex(of: "@") {
      let userInfo = rest[..<at]
      rest = rest[rest.index(after: at)...]
      if let colon = userInfo.firstIndex(of: ":") {
        username = try Self.percentDecoded(userInfo[..<colon], url: text)
        password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], url: text)
      } else {
        username = try Self.percentDecoded(userInfo, url: text)
      }
      if username?.isEmpty == true {
        throw BrokerURLError(url: text, reason: "empty user name before '@'")
      }
    }
    var portText: Substring?
    if rest.hasPrefix("[") {
      guard let close = rest.firstIndex(of: "]") else {
        throw BrokerURLError(url: text, reason: "unterminated IPv6 address")
      }
      host = String(rest[rest.index(after: rest.startIndex)..<close])
      let after = rest[rest.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else {
          throw BrokerURLError(url: text, reason: "unexpected text after the IPv6 address")
        }
        portText = after.dropFirst()
      }
    } else if let colon = rest.lastIndex(of: ":") {
      host = String(rest[..<colon])
      portText = rest[rest.index(after: colon)...]
    } else {
      host = String(rest)
    }
    guard !host.isEmpty else {
      throw BrokerURLError(url: text, reason: "missing host")
    }
    port = 1883
    if let portText {
      guard let value = Int32(portText), (1...65535).contains(value) else {
        throw BrokerURLError(url: text, reason: "port '\(portText)' is not a number from 1 to 65535")
      }
      port = value
    }
  }

  /// The URL again, with the password hidden.
  public var description: String {
    let shownHost = host.contains(":") ? "[\(host)]" : host
    let user = username.map { password == nil ? "\($0)@" : "\($0):***@" } ?? ""
    return "mqtt://\(user)\(shownHost):\(port)"
  }

  private static func percentDecoded(_ text: Substring, url: String) throws(BrokerURLError) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
        throw BrokerURLError(url: url, reason: "bad percent-encoding in the user info")
      }
      bytes.append(high << 4 | low)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

/// A broker URL that cannot be used.
public struct BrokerURLError: Error, CustomStringConvertible, Equatable {
  public var url: String
  public var reason: String

  public var description: String {
    "invalid broker URL '\(url)': \(reason)"
  }
}
