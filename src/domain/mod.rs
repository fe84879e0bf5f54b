//! Domain types that can only be made through `parse`, so an invalid user cannot exist past
//! the edge of the service. Nothing here knows about HTTP or storage.

mod avatar;
mod avatar_key;
mod email;
mod name;
mod spooled;
mod user;

pub use avatar::{Avatar, AvatarError, AvatarLimits, ImageFormat};
pub use avatar_key::{AvatarKey, AvatarUrls};
pub use email::{EmailError, MAX_EMAIL_CHARS, UserEmail};
pub use name::{MAX_NAME_CHARS, NameError, UserName};
pub use spooled::{Spooled, SpooledReader};
pub use user::{NewUser, User, UserRecord};
