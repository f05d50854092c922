import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Modbus RTU slaves played on the master side of a pseudo-terminal, written from the Modbus
/// specification (application protocol V1.1b3 and serial line guide V1.02) without gateway code:
/// function codes 1, 2, 3 and 4, exception responses, a bitwise CRC-16. Faults on demand: a silent
/// unit, CRC corruption, a delay.
final class SerialModbusTestSlave: @unchecked Sendable {
  struct Bank {
    var coils: [Int: Bool] = [:]
    var discreteInputs: [Int: Bool] = [:]
    var holding: [Int: UInt16] = [:]
    var input: [Int: UInt16] = [:]
    /// Never answer (a slave that is switched off).
    var silent = false
    /// Corrupt the CRC of this many next responses.
    var corruptResponses = 0
    /// Wait this long before answering.
    var delayMs = 0
  }

  struct Request: Equatable {
    var unit: UInt8
    var function: UInt8
    var address: Int
    var count: Int
    var time: Date
  }

  let pty: SerialPseudoTerminal
  private let lock = NSLock()
  private var banks: [UInt8: Bank]
  private var log: [Request] = []
  private var running = true
  private var thread: Thread?
  private let done = DispatchSemaphore(value: 0)

  init(pty: SerialPseudoTerminal, banks: [UInt8: Bank]) {
    self.pty = pty
    self.banks = banks
    let thread = Thread { [self] in serve() }
    thread.name = "modbus-test-slave"
    self.thread = thread
    thread.start()
  }

  func stop() {
    lock.withLock { running = false }
    done.wait()
  }

  func update(_ unit: UInt8, _ body: (inout Bank) -> Void) {
    lock.withLock { body(&banks[unit, default: Bank()]) }
  }

  var requests: [Request] { lock.withLock { log } }

  func requests(unit: UInt8) -> [Request] { requests.filter { $0.unit == unit } }

  /// CRC-16/MODBUS computed bit by bit, as the serial line guide (§6.2.2) describes it.
  static func crc(_ bytes: [UInt8]) -> UInt16 {
    var crc: UInt16 = 0xFFFF
    for byte in bytes {
      crc ^= UInt16(byte)
      for _ in 0..<8 {
        let lsb = crc & 1
        crc >>= 1
        if lsb == 1 { crc ^= 0xA001 }
      }
    }
    return crc
  }

  static func withCRC(_ bytes: [UInt8]) -> [UInt8] {
    let c = crc(bytes)
    return bytes + [UInt8(c & 0xFF), UInt8(c >> 8)]
  }

  private func serve() {
    var pending: [UInt8] = []
    while lock.withLock({ running }) {
      let bytes = pty.read(timeoutMs: 10)
      if bytes.isEmpty { continue }
      pending += bytes
      // Every request of FC 1-4 is 8 bytes; resynchronise on a bad CRC by dropping a byte.
      while pending.count >= 8 {
        let frame = Array(pending[0..<8])
        guard Self.crc(Array(frame[0..<6])) == UInt16(frame[6]) | UInt16(frame[7]) << 8 else {
          pending.removeFirst()
          continue
        }
        pending.removeFirst(8)
        answer(frame)
      }
    }
    done.signal()
  }

  private func answer(_ frame: [UInt8]) {
    let unit = frame[0]
    let function = frame[1]
    let address = Int(frame[2]) << 8 | Int(frame[3])
    let count = Int(frame[4]) << 8 | Int(frame[5])
    let (bank, corrupt): (Bank?, Bool) = lock.withLock {
      log.append(Request(unit: unit, function: function, address: address, count: count, time: Date()))
      guard var bank = banks[unit] else { return (nil, false) }
      let corrupt = bank.corruptResponses > 0
      if corrupt { bank.corruptResponses -= 1 }
      banks[unit] = bank
      return (bank, corrupt)
    }
    guard let bank, !bank.silent else { return }
    var response: [UInt8]
    switch function {
    case 1, 2:
      let table = function == 1 ? bank.coils : bank.discreteInputs
      if count < 1 || count > 2000 {
        response = [unit, function | 0x80, 3]
      } else if let bits = (address..<address + count).map({ table[$0] }) as? [Bool] {
        var data = [UInt8](repeating: 0, count: (count + 7) / 8)
        for (i, bit) in bits.enumerated() where bit { data[i / 8] |= 1 << UInt8(i % 8) }
        response = [unit, function, UInt8(data.count)] + data
      } else {
        response = [unit, function | 0x80, 2]
      }
    case 3, 4:
      let table = function == 3 ? bank.holding : bank.input
      if count < 1 || count > 125 {
        response = [unit, function | 0x80, 3]
      } else if let words = (address..<address + count).map({ table[$0] }) as? [UInt16] {
        response = [unit, function, UInt8(count * 2)] + words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
      } else {
        response = [unit, function | 0x80, 2]
      }
    default:
      response = [unit, function | 0x80, 1]
    }
    response = Self.withCRC(response)
    if corrupt { response[response.count - 1] ^= 0x5A }
    if bank.delayMs > 0 { usleep(UInt32(bank.delayMs * 1000)) }
    pty.write(response)
  }
}

extension SerialModbusTestSlave.Bank {
  /// Stores a 32-bit value as two registers in the given word and byte order.
  mutating func put32(
    _ address: Int, _ value: UInt32, wordOrder: RegisterOrderForTest = .big, byteOrder: RegisterOrderForTest = .big
  ) {
    var high = UInt16(value >> 16)
    var low = UInt16(value & 0xFFFF)
    if byteOrder == .little {
      high = high.byteSwapped
      low = low.byteSwapped
    }
    holding[address] = wordOrder == .big ? high : low
    holding[address + 1] = wordOrder == .big ? low : high
  }
}

enum RegisterOrderForTest { case big, little }
