//! Free text from callers (notes, reasons, purposes): bounded in length, free of control characters, and
//! required where the audit trail needs to say why.

use crate::error::{AppError, AppResult};

/// Longest note or reason accepted, in characters.
pub const MAX_TEXT: usize = 1000;

/// Refuses control characters (a NUL cannot even be stored on PostgreSQL); line breaks and tabs are text.
fn printable(field: &str, text: &str, line_breaks: bool) -> AppResult<()> {
    let allowed = |c: char| line_breaks && matches!(c, '\n' | '\r' | '\t');
    match text.chars().find(|c| c.is_control() && !allowed(*c)) {
        Some(c) => Err(AppError::BadInput(format!(
            "{field} contains the control character {:?}; send plain text",
            c.escape_unicode().to_string()
        ))),
        None => Ok(()),
    }
}

fn bounded(field: &str, text: &str) -> AppResult<()> {
    let len = text.chars().count();
    if len > MAX_TEXT {
        return Err(AppError::BadInput(format!("{field} is {len} characters long; at most {MAX_TEXT} are kept")));
    }
    printable(field, text, true)
}

/// An optional one-line label (a purpose, a client's id): trimmed, no control characters, at most `max`
/// characters; blank counts as none.
pub fn label(field: &str, text: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(t) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let len = t.chars().count();
    if len > max {
        return Err(AppError::BadInput(format!("{field} is {len} characters long; at most {max} are accepted")));
    }
    printable(field, t, false)?;
    Ok(Some(t.to_owned()))
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
    fn control_characters_are_refused_but_line_breaks_are_text() {
        assert!(note("note", Some("a\0b".into())).unwrap_err().to_string().contains("control character"));
        assert!(reason("reason", "bell\u{7}").is_err());
        assert!(note("note", Some("line one\nline two\tend".into())).is_ok());
        assert!(label("purpose", Some("two\nlines".into()), 50).is_err());
        assert_eq!(label("purpose", Some("  Logo design ".into()), 50).unwrap().as_deref(), Some("Logo design"));
        assert!(label("clientId", Some("x".repeat(51)), 50).unwrap_err().to_string().contains("at most 50"));
    }

    #[test]
    fn reasons_are_trimmed_and_required() {
        assert_eq!(reason("reason", "  KYC mismatch ").unwrap(), "KYC mismatch");
        assert!(reason("reason", " \t").is_err());
        assert!(reason("reason", &"é".repeat(MAX_TEXT + 1)).is_err());
    }
}
