use std::fmt;

use email_address::{EmailAddress, Options};

/// The longest address accepted, in characters (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A syntactically valid email address, stored lower-cased so that addresses compare
/// case-insensitively everywhere (`Foo@Example.com` and `foo@example.com` are one user).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserEmail(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("email must be at most {MAX_EMAIL_CHARS} characters, got {0}")]
    TooLong(usize),
    #[error("email is not a valid address: {0}")]
    Invalid(String),
}

impl UserEmail {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let length = raw.chars().count();
        if length > MAX_EMAIL_CHARS {
            return Err(EmailError::TooLong(length));
        }
        // A bare address only: no display name ("Ann <ann@x.org>"), no IP literal, and a
        // domain with at least one dot, which is what a deliverable address needs.
        let options = Options::default()
            .without_domain_literal()
            .with_minimum_sub_domains(2);
        let options = Options {
            allow_display_text: false,
            ..options
        };
        let address = EmailAddress::parse_with_options(raw, options)
            .map_err(|error| EmailError::Invalid(error.to_string()))?;
        Ok(Self(address.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address_of_length(length: usize) -> String {
        let domain = "@example.com";
        format!("{}{domain}", "a".repeat(length - domain.len()))
    }

    #[test]
    fn accepts_a_plain_address() {
        let email = UserEmail::parse("test-user@example.com").unwrap();
        assert_eq!(email.as_str(), "test-user@example.com");
    }

    #[test]
    fn lower_cases_the_whole_address() {
        let email = UserEmail::parse("Foo.Bar@Example.COM").unwrap();
        assert_eq!(email.as_str(), "foo.bar@example.com");
    }

    #[test]
    fn accepts_254_characters_and_rejects_255() {
        // Local parts are capped at 64 by RFC 5321, so the length sits in the domain.
        let domain_labels = |total: usize| {
            let local = "user@";
            let mut domain = String::new();
            while local.len() + domain.len() < total - 4 {
                domain.push_str("abcdefghi.");
            }
            domain.truncate(total - 4 - local.len());
            format!("{local}{domain}.com")
        };
        let at_limit = domain_labels(MAX_EMAIL_CHARS);
        assert_eq!(at_limit.len(), 254);
        assert!(UserEmail::parse(&at_limit).is_ok(), "{at_limit}");
        let over = domain_labels(MAX_EMAIL_CHARS + 1);
        assert_eq!(UserEmail::parse(&over), Err(EmailError::TooLong(255)));
    }

    #[test]
    fn rejects_an_overlong_local_part() {
        assert!(matches!(
            UserEmail::parse(&address_of_length(100)),
            Err(EmailError::Invalid(_))
        ));
    }

    #[test]
    fn rejects_malformed_addresses() {
        for raw in [
            "",
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@@example.com",
            "user name@example.com",
            "Ann <ann@example.com>",
            "user@[127.0.0.1]",
            "user@example..com",
        ] {
            assert!(
                matches!(UserEmail::parse(raw), Err(EmailError::Invalid(_))),
                "{raw:?} should be invalid"
            );
        }
    }
}
