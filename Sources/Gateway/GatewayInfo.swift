public enum GatewayInfo { public static let version = "0.1.0" }
