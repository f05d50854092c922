import Foundation
import Testing
@testable import FirmwareSim

#if canImport(Glibc)
  import Glibc
#endif

/// The serial devices as the gateway sees them: a path opened with open(2) and read like a UART.
struct SerialDeviceTests {
  static func player(_ lineProtocol: SerialProtocol, in directory: URL, faults: SerialFaultRates = SerialFaultRates()) throws -> SerialDevicePlayer {
    var options = SerialOptions(
      lineProtocol: lineProtocol, link: directory.appendingPathComponent("tty-\(lineProtocol.rawValue)").path,
      device: DeviceSpec(id: "motor-0003", kind: .motor, intervalMillis: 1000), seed: 5, startEpochMillis: testStart)
    options.faults = faults
    return try SerialDevicePlayer(options)
  }

  /// Open the slave through the symlink and read whatever is buffered there: at least
  /// `expectAtLeast` bytes, then on until the line has been quiet for 50 ms (a pty may hand the
  /// data over in several chunks).
  static func readAvailable(_ path: String, expectAtLeast: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)
    guard fd >= 0 else { throw SystemError(errno: errno, operation: "open \(path)") }
    defer { close(fd) }
    var collected: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = Date().addingTimeInterval(2)
    var quietSince = Date()
    while Date() < deadline {
      let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count > 0 {
        collected.append(contentsOf: buffer[0..<count])
        quietSince = Date()
      } else if collected.count >= expectAtLeast && Date().timeIntervalSince(quietSince) > 0.05 {
        break
      } else {
        usleep(2000)
      }
    }
    return collected
  }

  /// Lines split at LF bytes (a String would treat CR LF as one character), CR kept.
  static func lines(_ bytes: [UInt8]) -> [String] {
    bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
  }

  @Test func nmeaSentencesCanBeReadFromTheSlaveWithAPlainRead() throws {
    let directory = try TestSupport.temporaryDirectory("nmea")
    defer { try? FileManager.default.removeItem(at: directory) }
    let player = try Self.player(.nmea, in: directory)
    let link = try #require(player.options.link)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == player.terminal.slavePath)
    for _ in 0..<5 { try player.emitReading() }
    let lines = Self.lines(try Self.readAvailable(link, expectAtLeast: 5 * 4 * 40))
    #expect(lines.count == 20)
    for line in lines {
      #expect(line.hasSuffix("\r"), "raw mode keeps CR LF as written")
      let sentence = line.utf8.dropLast().split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false)
      #expect(sentence.count == 2)
      #expect(line.first == "$")
      #expect(UInt8(String(decoding: sentence[1], as: UTF8.self), radix: 16) == sentence[0].dropFirst().reduce(0, ^))
    }
    #expect(Set(lines.map { String(decoding: $0.utf8.dropFirst(3).prefix(3), as: UTF8.self) }) == ["GGA", "RMC", "VTG", "XDR"])
    player.terminal.close()
    #expect(!FileManager.default.fileExists(atPath: link), "closing removes the symlink")
  }

  @Test func badChecksumGarbageAndOverlongFaults() throws {
    let directory = try TestSupport.temporaryDirectory("nmea-faults")
    defer { try? FileManager.default.removeItem(at: directory) }
    var faults = SerialFaultRates()
    faults.badChecksum = 1
    faults.garbage = 1
    let player = try Self.player(.nmea, in: directory, faults: faults)
    try player.emitReading()
    let lines = Self.lines(try Self.readAvailable(player.options.link!, expectAtLeast: 4 * 40))
    #expect(lines.count == 4)
    for line in lines {
      let bytes = Array(line.utf8)
      let dollar = try #require(bytes.firstIndex(of: UInt8(ascii: "$")))
      #expect(dollar > 0, "garbage precedes every sentence")
      #expect(!NMEA.isValid(String(decoding: bytes[dollar...], as: UTF8.self)))
    }

    var overlong = SerialFaultRates()
    overlong.overlong = 1
    overlong.overlongBytes = 300
    let csv = try Self.player(.csv, in: directory, faults: overlong)
    try csv.emitReading()
    let csvLines = Self.lines(try Self.readAvailable(csv.options.link!, expectAtLeast: 2 * 302 + 80))
    #expect(csvLines.map(\.utf8.count).filter { $0 == 301 }.count == 2)
    #expect(csvLines.contains("device,kind,ts,vibration,temperature,current,rpm\r"))
  }

  /// Serial faults at their rates, read back through the slave like a gateway would.
  @Test func serialFaultRates() throws {
    let directory = try TestSupport.temporaryDirectory("serial-rates")
    defer { try? FileManager.default.removeItem(at: directory) }
    var faults = SerialFaultRates()
    faults.badChecksum = 0.2
    faults.garbage = 0.1
    faults.overlong = 0.05
    faults.overlongBytes = 200
    let player = try Self.player(.nmea, in: directory, faults: faults)
    let fd = open(player.options.link!, O_RDONLY | O_NOCTTY | O_NONBLOCK)
    #expect(fd >= 0)
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 8192)
    for _ in 0..<300 {
      try player.emitReading()
      while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
      }
    }
    #expect(player.summary.droppedBytes == 0)
    let lines = Self.lines(bytes)
    let overlong = lines.filter { $0.utf8.count == 201 }.count
    let sentences = lines.filter { $0.utf8.count != 201 }
    #expect(sentences.count == 1200)
    let garbled = sentences.filter { !$0.hasPrefix("$") }.count
    let bad = sentences.filter { line in
      let bytes = Array(line.utf8)
      let start = bytes.firstIndex(of: UInt8(ascii: "$"))!
      return !NMEA.isValid(String(decoding: bytes[start...], as: UTF8.self))
    }.count
    #expect(TestSupport.consistent(observed: bad, trials: 1200, rate: 0.2))
    #expect(TestSupport.consistent(observed: garbled, trials: 1200, rate: 0.1))
    #expect(TestSupport.consistent(observed: overlong, trials: 1200, rate: 0.05))
  }

  @Test func modbusFaultsCorruptTheCRCOrStaySilent() throws {
    let directory = try TestSupport.temporaryDirectory("modbus-faults")
    defer { try? FileManager.default.removeItem(at: directory) }
    for (badChecksum, noResponse) in [(1.0, 0.0), (0.0, 1.0)] {
      var faults = SerialFaultRates()
      faults.badChecksum = badChecksum
      faults.noResponse = noResponse
      let player = try Self.player(.modbusRTU, in: directory, faults: faults)
      let fd = open(player.options.link!, O_RDWR | O_NOCTTY | O_NONBLOCK)
      defer { close(fd) }
      let request = ModbusTests.bytes("01 03 00 00 00 02 C4 0B")
      _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      var response: [UInt8] = []
      for _ in 0..<20 {
        try player.serve(timeoutMilliseconds: 10)
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 { response.append(contentsOf: buffer[0..<count]) }
      }
      if noResponse > 0 {
        #expect(response.isEmpty)
        #expect(player.summary.unanswered == 1)
      } else {
        #expect(response.count == 9)
        #expect(Array(response.suffix(2)) != ModbusTests.crc(Array(response.prefix(7))))
      }
    }
  }

  @Test func csvAndJSONLinesFormats() throws {
    let directory = try TestSupport.temporaryDirectory("lines")
    defer { try? FileManager.default.removeItem(at: directory) }
    let csv = try Self.player(.csv, in: directory)
    for _ in 0..<3 { try csv.emitReading() }
    let rows = Self.lines(try Self.readAvailable(csv.options.link!, expectAtLeast: 150))
    #expect(rows.first == "device,kind,ts,vibration,temperature,current,rpm\r")
    #expect(rows.count == 4)
    #expect(rows.dropFirst().allSatisfy { $0.hasPrefix("motor-0003,motor,") && $0.split(separator: ",").count == 7 })

    let jsonl = try Self.player(.jsonl, in: directory)
    for _ in 0..<3 { try jsonl.emitReading() }
    let objects = Self.lines(try Self.readAvailable(jsonl.options.link!, expectAtLeast: 300))
    #expect(objects.count == 3)
    for (index, line) in objects.enumerated() {
      let object = try #require(TestSupport.jsonObject(Array(line.utf8)))
      #expect(object["device"] as? String == "motor-0003")
      #expect((object["ts"] as? NSNumber)?.int64Value == testStart + Int64(index) * 1000)
    }
  }

  @Test func modbusSlaveAnswersOverThePty() throws {
    let directory = try TestSupport.temporaryDirectory("modbus")
    defer { try? FileManager.default.removeItem(at: directory) }
    let player = try Self.player(.modbusRTU, in: directory)
    let fd = open(player.options.link!, O_RDWR | O_NOCTTY | O_NONBLOCK)
    #expect(fd >= 0)
    defer { close(fd) }

    func transact(_ request: [UInt8], expect length: Int) throws -> [UInt8] {
      _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      var response: [UInt8] = []
      let deadline = Date().addingTimeInterval(2)
      while response.count < length && Date() < deadline {
        try player.serve(timeoutMilliseconds: 10)
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 { response.append(contentsOf: buffer[0..<count]) }
      }
      return response
    }

    // The classic request: read two holding registers from address 0 (vibration as float32).
    let response = try transact(ModbusTests.bytes("01 03 00 00 00 02 C4 0B"), expect: 9)
    #expect(response.count == 9)
    #expect(Array(response.prefix(3)) == [0x01, 0x03, 0x04])
    #expect(Array(response.suffix(2)) == ModbusTests.crc(Array(response.prefix(7))))
    let vibration = ModbusRegisterMap.float32(
      UInt16(response[3]) << 8 | UInt16(response[4]), UInt16(response[5]) << 8 | UInt16(response[6]), order: .bigEndian)
    #expect(vibration > 0.5 && vibration < 5, "a healthy motor's vibration in mm/s")

    // Input register 48: the kind code (1, motor); 49: the device number (3).
    let kind = try transact(ModbusTests.bytes("01 04 00 30 00 02") + ModbusTests.crc(ModbusTests.bytes("01 04 00 30 00 02")), expect: 9)
    #expect(kind == ModbusTests.bytes("01 04 04 00 01 00 03") + ModbusTests.crc(ModbusTests.bytes("01 04 04 00 01 00 03")))

    // Illegal function and illegal address.
    let illegal = try transact(ModbusTests.bytes("01 07 00 00 00 01 75 CA"), expect: 5)
    #expect(illegal == ModbusTests.bytes("01 87 01") + ModbusTests.crc(ModbusTests.bytes("01 87 01")))
    let outside = try transact(ModbusTests.bytes("01 03 00 40 00 01") + ModbusTests.crc(ModbusTests.bytes("01 03 00 40 00 01")), expect: 5)
    #expect(outside == ModbusTests.bytes("01 83 02 C0 F1"))
    #expect(player.summary.answered == 4)
  }
}
