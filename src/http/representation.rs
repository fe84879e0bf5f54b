//! How a user looks on the wire.

use crate::domain::User;
use poem_openapi::Object;

/// A user: exactly these three members.
#[derive(Debug, Clone, Object)]
#[oai(rename = "User")]
pub struct UserObject {
    /// Display name.
    pub name: String,
    /// Email address, lower-cased; the user's identity.
    pub email: String,
    /// Where the avatar image can be fetched.
    pub avatar_url: String,
}

impl From<User> for UserObject {
    fn from(user: User) -> Self {
        Self {
            name: user.name,
            email: user.email,
            avatar_url: user.avatar_url,
        }
    }
}
