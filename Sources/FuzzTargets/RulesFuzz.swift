extension FuzzTargets {
  static func rules(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
}
