// swift-tools-version:6.0
import PackageDescription

/// Upcoming features every target turns on (as Hummingbird does): explicit existentials, imports
/// visible only where they are written, and internal imports unless an API needs them public.
let upcoming: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
  name: "weir",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "weir", targets: ["weir"]),
    .executable(name: "firmware-sim", targets: ["firmware-sim"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
  ],
  targets: [
    // C libraries, wrapped once at the edge.
    .systemLibrary(
      name: "CMosquitto", pkgConfig: "libmosquitto",
      providers: [.apt(["libmosquitto-dev"])]),
    .systemLibrary(
      name: "CRdKafka", pkgConfig: "rdkafka",
      providers: [.apt(["librdkafka-dev"])]),
    // CRC-32C with the SSE4.2 instruction (Swift cannot enable a CPU feature per function).
    .target(name: "CWeirCRC32C", cSettings: [.unsafeFlags(["-O3"])]),

    // The primitives every module shares (back-off, ...); depends only on the lifecycle's `Service`.
    .target(
      name: "WeirCore",
      dependencies: [.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
      swiftSettings: upcoming),
    // Payload formats every module reads and writes: the one JSON reader, writer and time parser.
    .target(name: "Payload", dependencies: ["WeirCore"], swiftSettings: upcoming),
    // The MQTT 3.1.1 and 5.0 packet codec (ours: no maintained Swift MQTT server library exists).
    .target(name: "MQTTWire", dependencies: ["WeirCore", "Payload"], swiftSettings: upcoming),

    .target(
      name: "PartitionedLog",
      dependencies: [
        "WeirCore",
        "CWeirCRC32C",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      swiftSettings: upcoming),
    // The one Swift wrapper of libmosquitto that the gateway uses (ingest and the MQTT uplink).
    .target(
      name: "MQTT",
      dependencies: [
        "CMosquitto",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    .target(
      name: "Ingest",
      dependencies: [
        "MQTTWire",
        "WeirCore",
        "Payload",
        "PartitionedLog",
        "MQTT",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "SwiftASN1", package: "swift-asn1"),
        .product(name: "Collections", package: "swift-collections"),
        // The listener's password file: SHA-512, PBKDF2 and SHA-256 (its verification cache).
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "CryptoExtras", package: "swift-crypto"),
      ],
      swiftSettings: upcoming),
    .target(
      name: "Uplink",
      dependencies: [
        "Payload",
        "WeirCore",
        "PartitionedLog",
        "CRdKafka",
        "MQTT",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .target(
      name: "Rules",
      dependencies: [
        "WeirCore",
        "Payload",
        .product(name: "Collections", package: "swift-collections")
      ],
      swiftSettings: upcoming),
    // The rule engine as a log consumer: reads its topics through the `rules` cursor, writes
    // alerts to the log, checkpoints; `Rules` itself stays free of I/O.
    .target(
      name: "RulesService",
      dependencies: [
        "WeirCore",
        "PartitionedLog",
        "Rules",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .target(
      name: "Gateway",
      dependencies: [
        "Payload",
        "RulesService",
        "WeirCore",
        "PartitionedLog",
        "Ingest",
        "Uplink",
        "Rules",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    // Benchmarks and debug tools (`weir bench ...`, `weir debug ...`): not part of the daemon.
    .target(
      name: "WeirTools",
      dependencies: [
        "Payload",
        "WeirCore",
        "Gateway",
        "PartitionedLog",
        "Ingest",
        "MQTTWire",
        "Uplink",
        "Rules",
        "MQTT",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      swiftSettings: upcoming),
    .executableTarget(
      name: "weir",
      dependencies: [
        "Gateway",
        "Payload",
        "WeirTools",
        "PartitionedLog",
        "WeirCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      swiftSettings: upcoming),

    // libFuzzer harnesses, one per external interface (docs/durability.md); `weir-fuzz` runs them.
    .target(
      name: "FuzzTargets",
      dependencies: ["PartitionedLog", "MQTT", "MQTTWire", "Ingest", "Payload", "Rules", "Gateway", "WeirCore"],
      swiftSettings: upcoming),
    .executableTarget(name: "weir-fuzz", dependencies: ["FuzzTargets"], swiftSettings: upcoming),

    // The simulated fleet: an independent device implementation that shares no gateway code.
    // posix_openpt & co. are XSI functions Swift's Glibc module hides; a C shim exposes them.
    .target(name: "CPseudoTerminal", path: "firmware-sim/Sources/CPseudoTerminal"),
    .target(
      name: "FirmwareSim",
      dependencies: [
        "CMosquitto",
        "CPseudoTerminal",
        .product(name: "Yams", package: "Yams"),
      ],
      path: "firmware-sim/Sources/FirmwareSim",
      swiftSettings: upcoming),
    .executableTarget(
      name: "firmware-sim",
      dependencies: [
        "FirmwareSim",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "firmware-sim/Sources/firmware-sim",
      swiftSettings: upcoming),

    .testTarget(
      name: "PartitionedLogTests",
      dependencies: ["PartitionedLog", "Gateway"],
      exclude: ["Fixtures"],
      swiftSettings: upcoming),
    // Real parts for the tests: mosquitto on a free port, child processes stopped by PID.
    .target(
      name: "WeirTestSupport", dependencies: ["PartitionedLog", .product(name: "Metrics", package: "swift-metrics")], path: "Tests/WeirTestSupport",
      swiftSettings: upcoming),
    .testTarget(
      name: "IngestTests",
      dependencies: ["MQTTWire", "Ingest", "PartitionedLog", "MQTT", "Payload", "WeirCore", "WeirTestSupport"],
      swiftSettings: upcoming),
    .testTarget(
      name: "UplinkTests",
      dependencies: ["Uplink", "PartitionedLog", "MQTT", "WeirCore", "WeirTestSupport"],
      swiftSettings: upcoming),
    .testTarget(
      name: "GatewayTests",
      dependencies: [
        "Gateway", "PartitionedLog", "Rules", "RulesService", "Ingest", "MQTT", "Uplink", "WeirTestSupport",
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "MQTTWireTests",
      dependencies: ["MQTTWire", "WeirCore"],
      swiftSettings: upcoming),
    .testTarget(
      name: "PayloadTests",
      dependencies: ["Payload"],
      swiftSettings: upcoming),
    .testTarget(
      name: "RulesTests",
      dependencies: ["Rules", "Payload"],
      swiftSettings: upcoming),
    .testTarget(
      name: "FuzzTests",
      dependencies: ["FuzzTargets"],
      swiftSettings: upcoming),
    .testTarget(
      name: "FirmwareSimTests",
      dependencies: ["FirmwareSim", "WeirTestSupport"],
      swiftSettings: upcoming),
  ]
)
