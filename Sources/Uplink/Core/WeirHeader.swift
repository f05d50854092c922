/// Header names Weir adds, at fixed addresses.
enum WeirHeader {
  static let gateway = Static("weir.gateway")
  static let epoch = Static("weir.epoch")
  static let topic = Static("weir.topic")
  static let partition = Static("weir.partition")
  static let offset = Static("weir.offset")
  static let replayed = Static("weir.replayed")
  static let gap = Static("weir.gap")
  static let gapReason = Static("weir.gap.reason")
  static let trueValue = Static("true")

  /// Immutable bytes allocated once and never freed.
  /// `@unchecked Sendable`: the bytes are immutable, allocated once and never freed.
  struct Static: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(_ text: String) {
      let utf8 = Array(text.utf8)
      let base = UnsafeMutableRawPointer.allocate(byteCount: utf8.count, alignment: 1)
      utf8.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      bytes = UnsafeRawBufferPointer(start: base, count: utf8.count)
    }
  }
}
