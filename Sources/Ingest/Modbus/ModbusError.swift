/// Why a Modbus exchange failed, with the slave's own answer decoded when it sent an exception.
public struct ModbusError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The metric label of `weir_modbus_errors_total{kind}`.
  public enum Kind: String, Sendable, CaseIterable {
    /// No complete response within the response timeout.
    case timeout
    /// A response whose CRC-16 did not match.
    case crc
    /// The slave answered with an exception response.
    case exception
    /// A response from another unit, for another function, or with an impossible length.
    case malformed
    /// The port failed (see ``port``); the source reopens it.
    case io
  }

  public var kind: Kind
  public var message: String
  /// The exception code of an exception response.
  public var exceptionCode: UInt8?
  /// The port error behind an ``Kind/io`` failure.
  public var port: SerialError?

  public init(_ kind: Kind, _ message: String, exceptionCode: UInt8? = nil, port: SerialError? = nil) {
    self.kind = kind
    self.message = message
    self.exceptionCode = exceptionCode
    self.port = port
  }

  /// The name the Modbus application protocol specification gives an exception code.
  public static func exceptionName(_ code: UInt8) -> String {
    switch code {
    case 1: return "illegal function"
    case 2: return "illegal data address"
    case 3: return "illegal data value"
    case 4: return "server device failure"
    case 5: return "acknowledge"
    case 6: return "server device busy"
    case 8: return "memory parity error"
    case 0x0A: return "gateway path unavailable"
    case 0x0B: return "gateway target device failed to respond"
    default: return "unknown exception"
    }
  }

  /// Worth another attempt: lost or damaged frames, and a slave that says it is busy.
  var isTransient: Bool {
    switch kind {
    case .timeout, .crc, .malformed: return true
    case .exception: return exceptionCode == 5 || exceptionCode == 6
    case .io: return false
    }
  }

  public var description: String { message }
}
