import Foundation
import Testing

@testable import Ingest
@testable import PartitionedLog

/// Every test that plays a device on a pseudo-terminal, one at a time: they measure timing
/// and throughput, which other pty tests running beside them would disturb.
@Suite(.serialized) struct SerialPtyTests {}

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
      #expect(serialWait(5) { source.status.up }, "port never came up")
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
      usleep(20_000)
      pty.write(Array(vtgBytes[10..<30]))
      usleep(20_000)
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

      #expect(serialWait(5) { log.count("telemetry") == 6 && log.count("deadletter") == 6 })
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
