//! Connecting to a dialogwatch server as a client (CLI, remote workers):
//! URL, optional TLS / mutual TLS, optional bearer token.

use clap::Args;
use std::path::PathBuf;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// A channel that adds the bearer token to every call.
pub type AuthedChannel = InterceptedService<Channel, BearerToken>;

/// How to reach the server.
#[derive(Clone, Args)]
pub struct ClientOptions {
    /// Server URL (`https://` with TLS).
    #[arg(
        long,
        env = "DIALOGWATCH_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    pub server: String,
    /// Bearer token sent with every call.
    #[arg(long, env = "DIALOGWATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// CA certificate (PEM) that signed the server's certificate.
    #[arg(long, env = "DIALOGWATCH_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM), for mutual TLS.
    #[arg(long, env = "DIALOGWATCH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Client private key (PEM), for mutual TLS.
    #[arg(long, env = "DIALOGWATCH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Server name to verify, when it differs from the URL's host.
    #[arg(long, env = "DIALOGWATCH_TLS_DOMAIN")]
    pub tls_domain: Option<String>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientOptions")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls_ca", &self.tls_ca)
            .field("tls_cert", &self.tls_cert)
            .finish_non_exhaustive()
    }
}

/// Why a connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A bad URL, token or TLS file.
    #[error("{0}")]
    Config(String),
    /// The transport failed.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Adds `authorization: Bearer <token>` to each request.
#[derive(Clone, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl BearerToken {
    /// A token interceptor (none: adds nothing).
    pub fn new(token: Option<&str>) -> Result<Self, ClientError> {
        token
            .map(|token| {
                format!("Bearer {token}")
                    .parse::<MetadataValue<Ascii>>()
                    .map_err(|_| {
                        ClientError::Config("the token must be printable ASCII".to_string())
                    })
            })
            .transpose()
            .map(BearerToken)
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl ClientOptions {
    /// Options for a plaintext server at `url` without a token.
    pub fn plain(url: impl Into<String>) -> Self {
        ClientOptions {
            server: url.into(),
            token: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            tls_domain: None,
        }
    }

    fn endpoint(&self) -> Result<Endpoint, ClientError> {
        let mut endpoint = Endpoint::from_shared(self.server.clone())
            .map_err(|error| ClientError::Config(format!("server URL {}: {error}", self.server)))?;
        let wants_tls =
            self.server.starts_with("https://") || self.tls_ca.is_some() || self.tls_cert.is_some();
        if wants_tls {
            let read = |path: &PathBuf| {
                std::fs::read(path)
                    .map_err(|error| ClientError::Config(format!("{}: {error}", path.display())))
            };
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = &self.tls_ca {
                tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
            }
            if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
                tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            if let Some(domain) = &self.tls_domain {
                tls = tls.domain_name(domain.clone());
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        Ok(endpoint)
    }

    /// Connects now.
    pub async fn connect(&self) -> Result<AuthedChannel, ClientError> {
        let channel = self.endpoint()?.connect().await?;
        Ok(InterceptedService::new(
            channel,
            BearerToken::new(self.token.as_deref())?,
        ))
    }

    /// Connects on first use (and reconnects as needed): for long-running workers.
    pub fn connect_lazy(&self) -> Result<AuthedChannel, ClientError> {
        let channel = self.endpoint()?.connect_lazy();
        Ok(InterceptedService::new(
            channel,
            BearerToken::new(self.token.as_deref())?,
        ))
    }
}
