//! Free text from callers (notes, reasons): bounded, because events carry it and a PostgreSQL NOTIFY payload is
//! at most 8000 bytes; and required where the audit trail needs to say why.

use crate::error::{AppError, AppResult};

/// Longest note or reason accepted, in characters.
pub const MAX_TEXT: usize = 1000;

fn bounded(field: &str, text: &str) -> AppResult<()> {
    let len = text.chars().count();
    if len > MAX_TEXT {
        return Err(AppError::BadInput(format!("{field} is {len} characters long; at most {MAX_TEXT} are kept")));
    }
    Ok(())
}

/// An optional note: at most `MAX_TEXT` characters; blank counts as none.
pub fn note(field: &str, text: Option<String>) -> AppResult<Option<String>> {
    if let Some(t) = &text {
        bounded(field, t)?;
    }
    Ok(text.filter(|t| !t.trim().is_empty()))
}

/// A required reason, trimmed: not blank, at most `MAX_TEXT` characters.
pub fn reason(field: &str, text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AppError::BadInput(format!("{field} must not be empty: the audit trail keeps why")));
    }
    bounded(field, t)?;
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_notes_are_none_and_long_text_is_refused() {
        assert_eq!(note("note", Some("  ".into())).unwrap(), None);
        assert_eq!(note("note", Some("hi".into())).unwrap().as_deref(), Some("hi"));
        assert!(note("note", Some("x".repeat(MAX_TEXT + 1))).is_err());
        assert!(note("note", Some("x".repeat(MAX_TEXT))).is_ok());
    }

    #[test]
    fn reasons_are_trimmed_and_required() {
        assert_eq!(reason("reason", "  KYC mismatch ").unwrap(), "KYC mismatch");
        assert!(reason("reason", " \t").is_err());
        assert!(reason("reason", &"é".repeat(MAX_TEXT + 1)).is_err());
    }
}
