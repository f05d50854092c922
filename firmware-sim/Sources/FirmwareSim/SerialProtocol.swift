/// What goes over a simulated serial line.
public enum SerialProtocol: String, Sendable, CaseIterable {
  /// NMEA 0183: GGA, RMC, VTG and XDR sentences with `*hh` checksums.
  case nmea
  /// A header line, then one CSV row per reading.
  case csv
  /// One telemetry JSON object per line.
  case jsonl
  /// A Modbus RTU slave answering function codes 1-4.
  case modbusRTU = "modbus-rtu"
}
