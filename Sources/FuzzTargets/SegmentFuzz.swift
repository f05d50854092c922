extension FuzzTargets {
  static func segmentRecovery(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
}
