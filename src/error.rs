//! Errors the CLI answers with exit code 2: bad usage, bad config, nothing run or written.

/// A user mistake (bad config, bad flag, missing file). The CLI prints it and exits with 2;
/// nothing has been written when it is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
