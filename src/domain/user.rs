use super::{UserEmail, UserName};

/// A user about to be created: the parsed fields, before any avatar is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: UserName,
    pub email: UserEmail,
}

/// A stored user, as every backend returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub email: String,
    pub avatar_url: String,
}
