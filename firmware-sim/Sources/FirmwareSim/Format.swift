/// Text helpers for progress lines.
enum Format {
  /// `12.3` with one decimal.
  static func oneDecimal(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
  }

  /// `+01:23:20` for simulated seconds.
  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded(.down))
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "+\(two(total / 3600)):\(two(total / 60 % 60)):\(two(total % 60))"
  }

  /// A JSON number for a rate or a duration: three decimals.
  static func number(_ value: Double) -> String {
    var bytes: [UInt8] = []
    JSONBytes.appendFixed(value, decimals: 3, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }
}
