import Foundation
import Testing

@testable import Ingest
@testable import PartitionedLog

extension SerialPtyTests {
  @Suite struct Throughput {
    /// A GPS at 115200 baud, paced as the UART would pace it: every sentence arrives, none is lost
    /// or damaged.
    @Test func nmeaAt115200BaudWithoutLoss() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath, deviceId: "gps"), lineProtocol: LineProtocolConfig(format: .nmea),
        store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })

      let bytesPerSecond = 115_200.0 / 10  // 8N1: 10 bits a character
      let seconds = 3.0
      var sentences: [String] = []
      var total = 0
      var i = 0
      while Double(total) < bytesPerSecond * seconds {
        let s =
          i % 3 == 0
          ? nmea(
            String(
              format: "GPGGA,%02d%02d%02d.%02d,4807.%03d,N,01131.%03d,E,1,%02d,0.9,%d.4,M,46.9,M,,", (i / 360_000) % 24,
              (i / 6000) % 60, (i / 100) % 60, i % 100, i % 1000, (i * 7) % 1000, i % 13, 500 + i % 50))
          : i % 3 == 1
            ? nmea(
              String(
                format: "GPRMC,%02d%02d%02d.%02d,A,4807.%03d,N,01131.%03d,E,%03d.4,084.4,230394,003.1,W",
                (i / 360_000) % 24, (i / 6000) % 60, (i / 100) % 60, i % 100, i % 1000, (i * 3) % 1000, i % 100))
            : nmea(String(format: "GPVTG,%03d.7,T,034.4,M,005.5,N,010.%d,K,A", i % 360, i % 10))
        sentences.append(s)
        total += s.utf8.count
        i += 1
      }
      let start = Date()
      let toWrite = sentences
      // Paced on a thread of its own: sleeping on the cooperative pool would starve other tests.
      let writer = Thread {
        var sent = 0
        for s in toWrite {
          // Wait until the UART would have shifted out everything before this sentence.
          let wait = Double(sent) / bytesPerSecond - Date().timeIntervalSince(start)
          if wait > 0.001 { usleep(UInt32(wait * 1_000_000)) }
          pty.write(s)
          sent += s.utf8.count
        }
      }
      writer.start()
      #expect(await serialWait(seconds + 10) { source.status.records == Int64(sentences.count) })
      let elapsed = Date().timeIntervalSince(start)
      try await running.finish()
      let records = try log.records("telemetry")
      #expect(records.count == sentences.count)
      #expect(records.map { $0.headers["nmea.sentence"] ?? "" } == sentences.map { String($0.dropLast()) })
      #expect(log.count("deadletter") == 0)
      print(
        "serial throughput: NMEA at 115200 baud: \(sentences.count) sentences, \(total) bytes in "
          + String(format: "%.2f s (%.0f sentences/s), none lost", elapsed, Double(sentences.count) / elapsed))
    }

    /// CSV as fast as the pseudo-terminal carries it (the master's writes block while the line
    /// discipline's queue is full, so nothing may be lost).
    @Test func csvAtFullPtySpeed() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let config = LineProtocolConfig(
        format: .csv, keyField: "device",
        columns: [
          CSVColumn("seq", .int), CSVColumn("device", .string), CSVColumn("temp", .float), CSVColumn("ok", .bool),
        ])
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath, baud: 921_600), lineProtocol: config, store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })

      let lines = 200_000
      var chunks: [[UInt8]] = []
      var chunk: [UInt8] = []
      var bytes = 0
      for i in 0..<lines {
        chunk += Array("\(i),motor-\(i % 64),\(20 + i % 30).\(i % 10),\(i % 2 == 0 ? "true" : "false")\r\n".utf8)
        if chunk.count >= 4096 || i == lines - 1 {
          bytes += chunk.count
          chunks.append(chunk)
          chunk.removeAll(keepingCapacity: true)
        }
      }
      let start = Date()
      let toWrite = chunks
      let writer = Thread { for c in toWrite { pty.write(c) } }
      writer.start()
      #expect(await serialWait(60) { source.status.records == Int64(lines) })
      let elapsed = Date().timeIntervalSince(start)
      try await running.finish()
      #expect(source.status.deadLetterTotal == 0)
      let records = try log.records("telemetry")
      #expect(records.count == lines)
      var seen = [Bool](repeating: false, count: lines)
      for r in records {
        let seq = Int(r.value.dropFirst(7).prefix { $0 != "," }) ?? -1
        if seq >= 0 && seq < lines { seen[seq] = true }
      }
      #expect(seen.allSatisfy { $0 }, "missing sequence numbers")
      print(
        "serial throughput: CSV at full pty speed: \(lines) lines, \(bytes) bytes in "
          + String(
            format: "%.2f s: %.0f lines/s, %.1f MB/s", elapsed, Double(lines) / elapsed, Double(bytes) / elapsed / 1e6))
    }
  }
}
