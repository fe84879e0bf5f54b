use super::{AvatarKey, UserEmail, UserName};

/// A user about to be created: the parsed fields, before any avatar is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: UserName,
    pub email: UserEmail,
}

/// A user as the table keeps it: the avatar by its key. The strings are as stored; only
/// parsed values are ever written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub name: String,
    pub email: String,
    pub avatar: AvatarKey,
}

/// A user as clients see it: the avatar by the URL it is served at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub email: String,
    pub avatar_url: String,
}
