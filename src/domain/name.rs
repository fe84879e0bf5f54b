use std::fmt;

/// The longest name accepted, in characters (Unicode scalar values) after trimming.
pub const MAX_NAME_CHARS: usize = 100;

/// A user's display name: trimmed, non-empty, at most [`MAX_NAME_CHARS`] characters and free
/// of control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("name must not be empty")]
    Empty,
    #[error("name must be at most {MAX_NAME_CHARS} characters, got {0}")]
    TooLong(usize),
    #[error("name must not contain control characters")]
    ControlCharacter,
}

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(NameError::Empty);
        }
        let length = trimmed.chars().count();
        if length > MAX_NAME_CHARS {
            return Err(NameError::TooLong(length));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_name_and_trims_it() {
        assert_eq!(
            UserName::parse("  Test User \n").unwrap().as_str(),
            "Test User"
        );
    }

    #[test]
    fn rejects_empty_and_whitespace_only_names() {
        assert_eq!(UserName::parse(""), Err(NameError::Empty));
        assert_eq!(UserName::parse(" \t\n "), Err(NameError::Empty));
    }

    #[test]
    fn accepts_exactly_100_characters_and_rejects_101() {
        let hundred = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(UserName::parse(&hundred).unwrap().as_str(), hundred);
        let hundred_and_one = "é".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            UserName::parse(&hundred_and_one),
            Err(NameError::TooLong(101))
        );
    }

    #[test]
    fn counts_length_after_trimming() {
        let padded = format!("   {}   ", "a".repeat(MAX_NAME_CHARS));
        assert!(UserName::parse(&padded).is_ok());
    }

    #[test]
    fn rejects_control_characters_inside_the_name() {
        for raw in [
            "Bad\u{0}Name",
            "Bad\u{7}Name",
            "Tab\tName",
            "Line\nBreak",
            "Del\u{7f}",
        ] {
            assert_eq!(
                UserName::parse(raw),
                Err(NameError::ControlCharacter),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn keeps_non_ascii_letters() {
        assert_eq!(
            UserName::parse("Zoë Ōtsuka").unwrap().as_str(),
            "Zoë Ōtsuka"
        );
    }
}
