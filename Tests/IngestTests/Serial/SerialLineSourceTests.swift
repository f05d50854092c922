import Foundation
import Testing

@testable import Ingest
@testable import PartitionedLog

/// Every test that plays a device on a pseudo-terminal, one at a time: they measure timing
/// and throughput, which other pty tests running beside them would disturb.
@Suite(.serialized, .onSerialExecutor) struct SerialPtyTests {}

extension SerialPtyTests {
  @Suite struct LineSources {
    /// Starts a line source on a fresh pty and waits until the port is up.
    static func start(
      _ lineProtocol: LineProtocolConfig, deviceId: String? = "gps-1"
    ) async throws -> (SerialTestLog, SerialPseudoTerminal, SerialLineSource, SerialRunningSource) {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath, deviceId: deviceId), lineProtocol: lineProtocol, store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up }, "port never came up")
      return (log, pty, source, running)
    }

    @Test func nmeaStreamWithSplitsNoiseAndErrors() async throws {
      let config = LineProtocolConfig(format: .nmea, maxLineLength: 120)
      let (log, pty, source, running) = try await Self.start(config)
      let gga = nmea("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
      let rmc = nmea("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W")
      let vtg = nmea("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A")
      let xdr = nmea("IIXDR,C,19.52,C,AIRTEMP,P,1.0132,B,BARO")
      let gsv = nmea("GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00")
      pty.write(gga)
      // A sentence split over three reads.
      let vtgBytes = Array(vtg.utf8)
      pty.write(Array(vtgBytes[0..<10]))
      try await Task.sleep(for: .milliseconds(20))
      pty.write(Array(vtgBytes[10..<30]))
      try await Task.sleep(for: .milliseconds(20))
      pty.write(Array(vtgBytes[30...]))
      pty.write("\u{01}\u{02}garbage without a dollar\r\n")  // unparsable
      pty.write("noise" + rmc)  // noise dead-lettered, RMC kept
      pty.write("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*00\r\n")  // bad checksum
      pty.write("$GPGGA," + String(repeating: "9", count: 300) + "\r\n")  // too long
      pty.write("$GPGGA,12x519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*" + "00\r\n")  // checksum wrong too
      pty.write(nmea("GPGGA,12x519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"))  // bad time field
      pty.write("\r\n\r\n")  // blank lines: ignored
      pty.write(xdr)
      pty.write(gsv)
      pty.write(gga)

      #expect(await serialWait(5) { log.count("telemetry") == 6 && log.count("deadletter") == 6 })
      try await running.finish()

      let records = try log.records("telemetry")
      #expect(records.map { $0.json["type"] as? String } == ["GGA", "VTG", "RMC", "XDR", "GSV", "GGA"])
      #expect(records.allSatisfy { $0.key == "gps-1" && $0.headers["source"] == "serial:\(pty.slavePath)" })
      #expect(records[0].headers["nmea.sentence"] == String(gga.dropLast()))
      #expect(records[2].headers["nmea.sentence"] == String(rmc.dropLast()))

      let g = records[0].json
      #expect(g["talker"] as? String == "GP")
      #expect(g["time"] as? String == "12:35:19")
      #expect((g["lat"] as? Double).map { abs($0 - 48.1173) < 1e-9 } == true)
      #expect((g["lon"] as? Double).map { abs($0 - 11.5166667) < 1e-9 } == true)
      #expect(g["fix_quality"] as? Int == 1)
      #expect(g["satellites"] as? Int == 8)
      #expect(g["altitude_m"] as? Double == 545.4)
      #expect(g["dgps_age_s"] is NSNull)

      let r = records[2].json
      #expect(r["valid"] as? Bool == true)
      #expect(r["speed_knots"] as? Double == 22.4)
      #expect(r["date"] as? String == "1994-03-23")
      #expect(r["magnetic_variation_deg"] as? Double == -3.1)
      #expect(r["epoch_ms"] as? Int64 == 764_426_119_000)

      let v = records[1].json
      #expect(v["course_true_deg"] as? Double == 54.7)
      #expect(v["speed_kmh"] as? Double == 10.2)
      #expect(v["mode"] as? String == "A")

      let x = records[3].json["transducers"] as? [String: [String: Any]]
      #expect(x?["AIRTEMP"]?["value"] as? Double == 19.52)
      #expect(x?["BARO"]?["unit"] as? String == "B")
      #expect((records[4].json["fields"] as? [String])?.count == 19)

      let dead = try log.records("deadletter")
      let reasons = dead.map { $0.error.split(separator: ":").first.map(String.init) ?? "" }
      #expect(reasons == ["unparsable", "unparsable", "bad_checksum", "line_too_long", "bad_checksum", "unparsable"])
      #expect(dead[1].value == "noise")
      #expect(dead[2].error == "bad_checksum: checksum 00, computed 47")
      #expect(dead[3].value.count == 120)
      #expect(dead[5].error.contains("field 1 (time)"))
      #expect(dead.allSatisfy { $0.headers["source"] == "serial:\(pty.slavePath)" })

      let status = source.status
      #expect(status.records == 6)
      #expect(status.deadLetters == ["unparsable": 3, "bad_checksum": 2, "line_too_long": 1])
      #expect(status.up == false && status.lastError == "stopped")
    }
  }
}

extension SerialPtyTests.LineSources {
  @Test func csvStreamWithHeaderTypesKeyAndEventTime() async throws {
    let config = LineProtocolConfig(
      format: .csv, maxLineLength: 100, keyField: "device", timestampField: "ts", csvHeader: true,
      columns: [
        CSVColumn("ts", .int), CSVColumn("device", .string), CSVColumn("temp", .float), CSVColumn("count", .int),
        CSVColumn("ok", .bool),
      ])
    let (log, pty, source, running) = try await Self.start(config)
    // Event times near now, or the topic's 7-day retention would delete the records.
    let base = Int64(Date().timeIntervalSince1970) * 1000
    func ts(_ offset: Int64) -> String { String(base + offset) }
    let header = "ts,device,temp,count,ok,note\r\n"
    pty.write(header)
    pty.write(ts(0) + ",m-1,21.50,3,true,plain\r\n")
    pty.write(ts(100) + ", m-2 ,-0.5,0,0,\"quoted, with \"\"quotes\"\"\"\r\n")
    let split = Array((ts(200) + ",m-1,+22.,7,yes,x\r\n").utf8)
    pty.write(Array(split[0..<5]))
    try await Task.sleep(for: .milliseconds(20))
    pty.write(Array(split[5...]))
    pty.write(ts(300) + ",m-1,abc,1,true,x\r\n")  // temp not a float
    pty.write(ts(400) + ",m-1,1.5\r\n")  // too few fields
    pty.write(ts(500) + ",m-1,nan,2,off,x\r\n")  // nan is null
    pty.write(ts(600) + ",,1.0,2,on,x\r\n")  // no key
    pty.write("soon,m-1,1.0,2,on,x\r\n")  // ts not an int
    pty.write(header)  // the device restarted: skipped
    pty.write(ts(700) + ",m-3," + String(repeating: "7", count: 150) + ",1,true,x\r\n")  // too long
    pty.write([0x31, 0x2C, 0x6D, 0x2C, 0x31, 0x2C, 0x31, 0x2C, 0x74, 0x72, 0x75, 0x65, 0x2C, 0xFF, 0xFE, 0x0D, 0x0A])  // bad UTF-8
    pty.write(ts(800) + ",m-2,3e2,9,FALSE,last\r\n")

    #expect(await serialWait(5) { log.count("telemetry") == 5 && log.count("deadletter") == 6 })
    try await running.finish()
    let records = try log.records("telemetry")
    #expect(records.map(\.key) == ["m-1", "m-2", "m-1", "m-1", "m-2"])
    #expect(records.map(\.timestamp) == [base, base + 100, base + 200, base + 500, base + 800])
    #expect(records[0].value == #"{"ts":\#(base),"device":"m-1","temp":21.50,"count":3,"ok":true,"note":"plain"}"#)
    #expect(
      records[1].value
        == #"{"ts":\#(base + 100),"device":"m-2","temp":-0.5,"count":0,"ok":false,"note":"quoted, with \"quotes\""}"#)
    #expect(records[2].value == #"{"ts":\#(base + 200),"device":"m-1","temp":22,"count":7,"ok":true,"note":"x"}"#)
    #expect(records[3].value == #"{"ts":\#(base + 500),"device":"m-1","temp":null,"count":2,"ok":false,"note":"x"}"#)
    #expect(records[4].json["temp"] as? Double == 300)
    #expect(records.allSatisfy { $0.headers["content-type"] == "application/json" })

    let dead = try log.records("deadletter")
    #expect(
      dead.map(\.error) == [
        "unparsable: column 'temp': 'abc' is not a float within ±1.8e308",
        "unparsable: expected 6 fields, got 3",
        "missing_key: no usable field 'device' (a non-empty string or a number)",
        "unparsable: column 'ts': 'soon' is not a 64-bit int",
        "line_too_long: line longer than 100 bytes (first 100 kept)",
        "invalid_text: column 'note' is not UTF-8",
      ])
    #expect(dead[1].value == ts(400) + ",m-1,1.5")
    #expect(source.status.skippedLines == 2)  // the header, and its repetition
  }

  @Test func jsonLinesStreamKeepsPayloadsUnchanged() async throws {
    let config = LineProtocolConfig(format: .jsonLines, maxLineLength: 200, keyField: "id", timestampField: "time")
    let (log, pty, source, running) = try await Self.start(config)
    let lines = [
      #"{"id":"s-1","time":"2024-05-01T12:00:00.250Z","t":21.5}"#,
      #"{"time":1714564800500,"id":42,"nested":{"id":"inner"},"list":[1,2,{"a":null}]}"#,
      #"{"id":"s\u002d3","time":"2024-05-01T14:00:00+02:00","s":"é ✓"}"#,
    ]
    pty.write(lines[0] + "\n")
    pty.write("\u{00}\u{00}{\"id\":\"s-1\"}\n")  // garbage before an object
    pty.write("{\"id\":\"s-1\",\"t\":\n")  // a truncated object
    pty.write(Array(lines[1].utf8.prefix(17)))
    try await Task.sleep(for: .milliseconds(20))
    pty.write(Array(lines[1].utf8.dropFirst(17)) + [0x0A])
    pty.write("[1,2,3]\n")
    pty.write(#"{"time":1714564800500,"t":1}"# + "\n")  // no key
    pty.write(#"{"id":"x","time":"yesterday"}"# + "\n")  // bad time
    pty.write(#"{"id":"x"}"# + "\n")  // no time: dead letter by default
    pty.write("{\"id\":\"" + String(repeating: "y", count: 400) + "\"}\n")
    pty.write(lines[2] + "\r\n")

    #expect(await serialWait(5) { log.count("telemetry") == 3 && log.count("deadletter") == 7 })
    try await running.finish()
    let records = try log.records("telemetry")
    #expect(records.map(\.value) == lines)
    #expect(records.map(\.key) == ["s-1", "42", "s-3"])
    #expect(records.map(\.timestamp) == [1_714_564_800_250, 1_714_564_800_500, 1_714_564_800_000])
    let dead = try log.records("deadletter")
    #expect(
      dead.map { $0.error.split(separator: ":").first.map(String.init) ?? "" } == [
        "invalid_json", "invalid_json", "invalid_json", "missing_key", "bad_timestamp", "missing_timestamp",
        "line_too_long",
      ])
    #expect(dead[0].error == "invalid_json: not a JSON object (expected '{') at byte 0")
    #expect(dead[0].value == "\u{00}\u{00}{\"id\":\"s-1\"}")
    #expect(dead[1].error == "invalid_json: expected a value at byte 16")
    #expect(dead[2].error == "invalid_json: not a JSON object (expected '{') at byte 0")
    #expect(dead[4].error == "bad_timestamp: field 'time': 'yesterday' is not a time")
    #expect(source.status.deadLetters["invalid_json"] == 3)
  }
}
