//! Bearer-token authorisation with scopes. Tokens are never logged: the
//! configuration's `Debug` shows only how many there are.
//!
//! Token file format, one token per line: `<token> <scope>[,<scope>…]`, with
//! scopes `submit`, `read`, `worker`, `admin`; blank lines and `#` comments
//! are ignored. With no tokens configured, every call is allowed (local use).

use crate::error::ApiError;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// SubmitArticle(s).
    Submit,
    /// GetArticle, GetDialogue, ListDialogues, WatchDialogues.
    Read,
    /// The WorkerService lease API.
    Worker,
    /// Administrative calls.
    Admin,
}

impl Scope {
    /// The scope's name in token files.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Submit => "submit",
            Scope::Read => "read",
            Scope::Worker => "worker",
            Scope::Admin => "admin",
        }
    }
}

impl FromStr for Scope {
    type Err = AuthConfigError;
    fn from_str(name: &str) -> Result<Self, AuthConfigError> {
        match name {
            "submit" => Ok(Scope::Submit),
            "read" => Ok(Scope::Read),
            "worker" => Ok(Scope::Worker),
            "admin" => Ok(Scope::Admin),
            other => Err(AuthConfigError(format!("unknown scope {other:?}"))),
        }
    }
}

/// A malformed token file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token configuration: {0}")]
pub struct AuthConfigError(pub String);

/// Which tokens grant which scopes.
#[derive(Clone, Default)]
pub struct AuthConfig {
    tokens: Vec<(Vec<u8>, BTreeSet<Scope>)>,
    /// When true, Read calls need no token even when tokens are configured.
    pub open_reads: bool,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuthConfig")
            .field("tokens", &format_args!("<{} redacted>", self.tokens.len()))
            .field("open_reads", &self.open_reads)
            .finish()
    }
}

impl AuthConfig {
    /// No tokens: everything allowed.
    pub fn open() -> Self {
        AuthConfig::default()
    }

    /// Adds a token with its scopes.
    pub fn with_token(mut self, token: &str, scopes: &[Scope]) -> Self {
        self.tokens
            .push((token.as_bytes().to_vec(), scopes.iter().copied().collect()));
        self
    }

    /// Parses a token file's contents.
    pub fn parse(contents: &str, open_reads: bool) -> Result<Self, AuthConfigError> {
        let mut config = AuthConfig {
            tokens: Vec::new(),
            open_reads,
        };
        for (line_index, line) in contents.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(token), Some(scope_list), None) = (words.next(), words.next(), words.next())
            else {
                return Err(AuthConfigError(format!(
                    "line {}: expected `<token> <scope>[,<scope>…]`",
                    line_index + 1
                )));
            };
            if token.len() < 16 {
                return Err(AuthConfigError(format!(
                    "line {}: tokens must be at least 16 characters",
                    line_index + 1
                )));
            }
            let scopes = scope_list
                .split(',')
                .map(str::parse)
                .collect::<Result<BTreeSet<Scope>, _>>()
                .map_err(|error| {
                    AuthConfigError(format!("line {}: {}", line_index + 1, error.0))
                })?;
            config.tokens.push((token.as_bytes().to_vec(), scopes));
        }
        Ok(config)
    }

    /// True when tokens are configured.
    pub fn is_enforced(&self) -> bool {
        !self.tokens.is_empty()
    }
}

/// Checks requests against an [`AuthConfig`]; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    config: Arc<AuthConfig>,
}

impl Authorizer {
    /// An authorizer over `config`.
    pub fn new(config: AuthConfig) -> Self {
        Authorizer {
            config: Arc::new(config),
        }
    }

    /// Allows the request when its bearer token grants `scope`.
    pub fn check<T>(&self, request: &tonic::Request<T>, scope: Scope) -> Result<(), ApiError> {
        if !self.config.is_enforced() || (scope == Scope::Read && self.config.open_reads) {
            return Ok(());
        }
        let Some(header) = request.metadata().get("authorization") else {
            return Err(ApiError::Unauthenticated(
                "missing bearer token (authorization: Bearer <token>)".to_string(),
            ));
        };
        let presented = header
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthenticated("malformed authorization header".to_string())
            })?;
        let mut known = false;
        let mut granted = false;
        for (token, scopes) in &self.config.tokens {
            if constant_time_eq(token, presented.as_bytes()) {
                known = true;
                granted |= scopes.contains(&scope);
            }
        }
        if !known {
            return Err(ApiError::Unauthenticated(
                "unknown bearer token".to_string(),
            ));
        }
        if !granted {
            return Err(ApiError::PermissionDenied(format!(
                "token lacks the {} scope",
                scope.as_str()
            )));
        }
        Ok(())
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(token: Option<&str>) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().expect("ascii header");
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    #[test]
    fn token_files_parse_and_refuse_garbage() {
        let config = AuthConfig::parse(
            "# tokens\nsubmitter-token-0001 submit\nworker-token-000001 worker,read\n",
            true,
        )
        .expect("valid");
        assert_eq!(config.tokens.len(), 2);
        assert!(AuthConfig::parse("short submit", true).is_err());
        assert!(AuthConfig::parse("long-enough-token-1 launch", true).is_err());
        assert!(AuthConfig::parse("long-enough-token-1", true).is_err());
        assert!(!format!("{config:?}").contains("submitter-token"));
    }

    #[test]
    fn scopes_are_enforced() {
        let authorizer = Authorizer::new(
            AuthConfig::parse(
                "submitter-token-0001 submit\nadmin-token-00000001 admin,read",
                false,
            )
            .expect("valid"),
        );
        assert!(authorizer
            .check(&request_with(Some("submitter-token-0001")), Scope::Submit)
            .is_ok());
        let denied = authorizer.check(&request_with(Some("submitter-token-0001")), Scope::Worker);
        assert!(matches!(denied, Err(ApiError::PermissionDenied(_))));
        let unknown = authorizer.check(&request_with(Some("nobody-token-000000")), Scope::Submit);
        assert!(matches!(unknown, Err(ApiError::Unauthenticated(_))));
        let missing = authorizer.check(&request_with(None), Scope::Read);
        assert!(matches!(missing, Err(ApiError::Unauthenticated(_))));
        assert!(authorizer
            .check(&request_with(Some("admin-token-00000001")), Scope::Read)
            .is_ok());
    }

    #[test]
    fn open_reads_and_no_tokens_allow_calls() {
        let open_reads = Authorizer::new(
            AuthConfig::open().with_token("submitter-token-0001", &[Scope::Submit]),
        );
        let mut config = AuthConfig::open().with_token("submitter-token-0001", &[Scope::Submit]);
        config.open_reads = true;
        let reads_open = Authorizer::new(config);
        assert!(reads_open.check(&request_with(None), Scope::Read).is_ok());
        assert!(open_reads.check(&request_with(None), Scope::Read).is_err());
        assert!(Authorizer::default()
            .check(&request_with(None), Scope::Admin)
            .is_ok());
    }
}
