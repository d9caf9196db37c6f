//! The errors a command can end with, how they print, and which exit code each maps to.

use crate::plan::PlanError;

use super::exit;

/// Why a command could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The plan is invalid; nothing ran.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The arguments do not make sense together with the plan; nothing ran.
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },
    /// fanout itself failed (an I/O error of its own).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage {
            message: message.into(),
            help: None,
        }
    }

    pub fn usage_with_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        CliError::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Plan(_) | CliError::Usage { .. } => exit::USAGE,
            CliError::Internal(_) => exit::INTERNAL,
        }
    }

    /// Prints the error to stderr.
    pub fn print(&self, color: bool) {
        let text = match self {
            CliError::Plan(err) => {
                let theme = if color {
                    miette::GraphicalTheme::unicode()
                } else {
                    miette::GraphicalTheme::unicode_nocolor()
                };
                let mut out = String::new();
                let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
                if handler.render_report(&mut out, err).is_err() {
                    out = format!("error: {err}\n");
                }
                out
            }
            CliError::Usage { message, help } => {
                let mut out = format!("error: {message}\n");
                if let Some(help) = help {
                    out.push_str(&format!("  help: {help}\n"));
                }
                out
            }
            CliError::Internal(err) => format!("error: {err:#}\n"),
        };
        crate::bytes::eprint(&text);
    }
}
