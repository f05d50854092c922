extension FuzzTargets {
  static func config(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
  static func httpQuery(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
}
