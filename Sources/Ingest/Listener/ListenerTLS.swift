import NIOCore
import NIOSSL
import SwiftASN1
import WeirCore
import X509

/// A listener's TLS port (`tls:`): its address, its certificate and key (PEM), and the CA that
/// client certificates must chain to.
///
/// With `ca_file`, a client may present a certificate (`require_client_cert: true`: must); one
/// that does not chain to the CA fails the handshake, and a valid one authenticates the client,
/// with its subject's common name (CN) as the user name, in place of a password (mosquitto's
/// `use_identity_as_username`).
public struct ListenerTLS: Sendable, Equatable {
  public var host: String
  public var port: Int
  public var certFile: String
  public var keyFile: String
  public var caFile: String?
  public var requireClientCert: Bool

  public init(
    host: String = "0.0.0.0", port: Int = 8883, certFile: String, keyFile: String, caFile: String? = nil,
    requireClientCert: Bool = false
  ) {
    self.host = host
    self.port = port
    self.certFile = certFile
    self.keyFile = keyFile
    self.caFile = caFile
    self.requireClientCert = requireClientCert
  }

  /// The server context: loads and checks the files (so a bad certificate or key is refused at
  /// start, with what is wrong).
  func makeContext() throws -> NIOSSLContext {
    let chain: [NIOSSLCertificate]
    do {
      chain = try NIOSSLCertificate.fromPEMFile(certFile)
    } catch {
      throw ListenerError("tls.cert_file \(certFile): not a PEM certificate chain (\(error))")
    }
    guard !chain.isEmpty else { throw ListenerError("tls.cert_file \(certFile): no certificate in it") }
    let key: NIOSSLPrivateKey
    do {
      key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
    } catch {
      throw ListenerError("tls.key_file \(keyFile): not a PEM private key (\(error))")
    }
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    configuration.minimumTLSVersion = .tlsv12
    if let caFile {
      do {
        _ = try NIOSSLCertificate.fromPEMFile(caFile)
      } catch {
        throw ListenerError("tls.ca_file \(caFile): not a PEM certificate (\(error))")
      }
      configuration.trustRoots = .file(caFile)
      configuration.certificateVerification = requireClientCert ? .noHostnameVerification : .optionalVerification
    } else {
      configuration.certificateVerification = .none
    }
    do {
      return try NIOSSLContext(configuration: configuration)
    } catch {
      throw ListenerError("tls: the certificate and key do not make a server context (\(error))")
    }
  }

  /// What is wrong with the files, for the configuration check at start.
  func problems() -> [ConfigIssue] {
    if requireClientCert && caFile == nil {
      return [ConfigIssue(key: "tls.require_client_cert", "needs tls.ca_file: the CA client certificates chain to")]
    }
    do {
      _ = try makeContext()
      return []
    } catch {
      return [ConfigIssue(key: "tls", "\(error)")]
    }
  }

  /// The common name of the verified certificate the client presented on `channel`, if any.
  static func clientCommonName(_ channel: any Channel) -> String? {
    guard let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
      let certificate = handler.peerCertificate, let der = try? certificate.toDERBytes(),
      let parsed = try? Certificate(derEncoded: der)
    else { return nil }
    for name in parsed.subject.reversed() {
      for attribute in name where attribute.type == .RDNAttributeType.commonName {
        return "\(attribute.value)"
      }
    }
    return nil
  }
}
