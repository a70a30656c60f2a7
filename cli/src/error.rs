//! What a command fails with.

/// What a command fails with: the core's error, or a server's answer (its stable code and
/// message) when the command went through `serve`'s API.
#[derive(Debug)]
pub enum CliError {
    /// The core's error.
    Core(ytcaption::Error),
    /// An error a server answered with.
    Remote {
        /// Its stable code.
        code: String,
        /// Its message.
        message: String,
    },
}

impl CliError {
    /// An error a server answered with (or met on the way to it).
    pub fn remote(code: &str, message: impl Into<String>) -> Self {
        CliError::Remote {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<ytcaption::Error> for CliError {
    fn from(e: ytcaption::Error) -> Self {
        CliError::Core(e)
    }
}
