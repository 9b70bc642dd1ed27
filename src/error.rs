//! The API layer's error and its one conversion into a gRPC status
//! (SPEC §4: the right code, with a `BadRequest` field violation naming the field).

use crate::store::StoreError;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// Everything a handler can refuse or fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A request field is malformed or missing.
    #[error("invalid {field}: {description}")]
    InvalidArgument {
        /// Path of the offending field, e.g. `article.url`.
        field: String,
        /// What is wrong with it.
        description: String,
    },
    /// A request field exceeds a configured limit.
    #[error("{field} too large: {description}")]
    ResourceExhausted {
        /// Path of the offending field.
        field: String,
        /// The limit and the size given.
        description: String,
    },
    /// The named resource does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// Resource type.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request is well-formed but the system is not in a state to honour it.
    #[error("{description}")]
    FailedPrecondition {
        /// Path of the field that cannot be honoured.
        field: String,
        /// Why.
        description: String,
    },
    /// No valid credentials were presented.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The credentials do not grant this call.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The server is shutting down or the store is closed; retry elsewhere or later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// An invalid argument on `field`.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::InvalidArgument {
            field: field.into(),
            description: description.into(),
        }
    }

    /// A size limit exceeded on `field`.
    pub fn too_large(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::ResourceExhausted {
            field: field.into(),
            description: description.into(),
        }
    }

    /// The offending field, for per-item errors of bulk calls.
    pub fn field(&self) -> &str {
        match self {
            ApiError::InvalidArgument { field, .. }
            | ApiError::ResourceExhausted { field, .. }
            | ApiError::FailedPrecondition { field, .. } => field,
            ApiError::NotFound { .. }
            | ApiError::Unauthenticated(_)
            | ApiError::PermissionDenied(_)
            | ApiError::Unavailable(_)
            | ApiError::Internal(_) => "",
        }
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument { .. } => Code::InvalidArgument,
            ApiError::ResourceExhausted { .. } => Code::ResourceExhausted,
            ApiError::NotFound { .. } => Code::NotFound,
            ApiError::FailedPrecondition { .. } => Code::FailedPrecondition,
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::PermissionDenied(_) => Code::PermissionDenied,
            ApiError::Unavailable(_) => Code::Unavailable,
            ApiError::Internal(_) => Code::Internal,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, id } => ApiError::NotFound { what, id },
            StoreError::LeaseNotHeld { .. } => ApiError::FailedPrecondition {
                field: "lease_id".to_string(),
                description: error.to_string(),
            },
            StoreError::SnapshotDestination { .. } => ApiError::invalid("path", error.to_string()),
            StoreError::NotDeadLettered { .. } => ApiError::FailedPrecondition {
                field: "article_id".to_string(),
                description: error.to_string(),
            },
            StoreError::InvalidPageToken => ApiError::invalid(
                "page_token",
                "not a token issued by this server for this query",
            ),
            StoreError::Closed => ApiError::Unavailable(error.to_string()),
            StoreError::Sled(_)
            | StoreError::Corrupt(_)
            | StoreError::TextLost { .. }
            | StoreError::Io(_)
            | StoreError::Task(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        match &error {
            ApiError::InvalidArgument { field, description }
            | ApiError::ResourceExhausted { field, description } => {
                tonic::Status::with_error_details(
                    error.code(),
                    message,
                    ErrorDetails::with_bad_request_violation(field.clone(), description.clone()),
                )
            }
            ApiError::FailedPrecondition { field, description } => {
                tonic::Status::with_error_details(
                    error.code(),
                    message,
                    ErrorDetails::with_precondition_failure_violation(
                        "STATE",
                        field.clone(),
                        description.clone(),
                    ),
                )
            }
            ApiError::NotFound { what, id } => tonic::Status::with_error_details(
                error.code(),
                message,
                ErrorDetails::with_resource_info(*what, id.clone(), "", ""),
            ),
            ApiError::Unauthenticated(_)
            | ApiError::PermissionDenied(_)
            | ApiError::Unavailable(_)
            | ApiError::Internal(_) => tonic::Status::new(error.code(), message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_a_field_violation() {
        let status = tonic::Status::from(ApiError::invalid("article.url", "not an absolute URL"));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad_request = details.bad_request().expect("bad request details");
        assert_eq!(bad_request.field_violations[0].field, "article.url");
    }

    #[test]
    fn store_errors_map_to_the_documented_codes() {
        let lease = ApiError::from(StoreError::LeaseNotHeld {
            article_id: "art-1".into(),
            lease_id: "x".into(),
        });
        assert_eq!(lease.code(), Code::FailedPrecondition);
        assert_eq!(ApiError::from(StoreError::Closed).code(), Code::Unavailable);
        assert_eq!(
            ApiError::from(StoreError::InvalidPageToken).code(),
            Code::InvalidArgument
        );
    }
}
