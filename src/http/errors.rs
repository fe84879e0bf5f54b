//! Every failure a client can meet, mapped to its HTTP status, in one place. Each row is
//! both the answer and the line of the OpenAPI document that announces it.

use std::io;

use crate::domain::{AvatarError, EmailError, NameError};
use crate::http_statuses;
use crate::service::{CreateError, DeleteError, NotReady};
use crate::store::{StoreError, StoreErrorKind};

use super::api::{AvatarNotFound, CursorError, UserNotFound};
use super::problem::{RequestError, UnexpectedRequestError};
use super::upload::UploadError;

const UNAVAILABLE: &str =
    "The store is unreachable, throttled or timing out; retry after `Retry-After` seconds.";
const UNEXPECTED: &str = "An unexpected error; the detail says no more.";

http_statuses!(NameError {
    _ => 422 "The name is empty after trimming, longer than 100 characters, or holds control characters.",
});

http_statuses!(EmailError {
    _ => 422 "The email is not a plain address, or is longer than 254 characters.",
});

http_statuses!(UploadError {
    UploadError::Malformed(_)
    | UploadError::MissingField(_)
    | UploadError::DuplicateField(_)
    | UploadError::UnknownField(_)
    | UploadError::NotText(_) => 400 "The body is not multipart/form-data, or a field is missing, unknown or given twice.",
    UploadError::TextTooLong(_) => 422 "A text field is far longer than any valid value.",
    UploadError::AvatarTooLarge(_) => 413 "The avatar is larger than the byte limit; refused as soon as the limit is crossed.",
    UploadError::Stalled(_) | UploadError::TooSlow(_) => 408 "The body stopped arriving for the stall timeout, or had not arrived by the upload deadline.",
    UploadError::SpoolFull(_) => 503 "Temporary upload space is exhausted by uploads in progress; nothing was stored. Retry after `Retry-After` seconds.",
    UploadError::Spool(_) => 500 UNEXPECTED,
});

http_statuses!(CreateError {
    CreateError::Avatar(AvatarError::TooLarge { .. }) => 413 "The avatar is larger than the byte limit; refused as soon as the limit is crossed.",
    CreateError::Avatar(AvatarError::UnsupportedFormat) => 415 "The avatar is not a PNG, JPEG, GIF or WebP image, judged by its bytes.",
    CreateError::Avatar(AvatarError::Empty | AvatarError::TooManyPixels { .. } | AvatarError::Malformed { .. })
        => 422 "The avatar is empty, declares too many pixels, or cannot be read.",
    CreateError::Avatar(AvatarError::TooCostly(_))
        => 422 "The avatar is an animation of too many frames or too many pixels over all its frames, or a JPEG of too many scans.",
    CreateError::Conflict => 409 "A user with that email (compared case-insensitively) exists already.",
    CreateError::Store(error) if error.kind() == StoreErrorKind::Unavailable
        => 503 "The store is unreachable, throttled or timing out; nothing was stored. Retry after `Retry-After` seconds.",
    CreateError::TimedOut(_) => 503 "The store did not finish within the create timeout; nothing was stored. Retry after `Retry-After` seconds.",
    CreateError::Avatar(AvatarError::Io(_)) | CreateError::Store(_) | CreateError::Aborted(_) => 500 UNEXPECTED,
});

http_statuses!(StoreError {
    error if error.kind() == StoreErrorKind::Unavailable => 503 UNAVAILABLE,
    _ => 500 UNEXPECTED,
});

http_statuses!(DeleteError {
    DeleteError::Store(error) if error.kind() == StoreErrorKind::Unavailable => 503 UNAVAILABLE,
    DeleteError::Store(_) | DeleteError::Aborted(_) => 500 UNEXPECTED,
});

http_statuses!(NotReady {
    _ => 503 "The store does not answer, or the service is shutting down.",
});

http_statuses!(UserNotFound {
    _ => 404 "No user has that email.",
});

http_statuses!(CursorError {
    _ => 400 "`cursor` is not one this service issued.",
});

http_statuses!(AvatarNotFound {
    _ => 404 "No such avatar, or the backend serves avatars from elsewhere (aws).",
});

http_statuses!(io::Error {
    _ => 500 UNEXPECTED,
});

http_statuses!(UnexpectedRequestError {
    _ => 500 UNEXPECTED,
});

http_statuses!(RequestError {
    _ => 400 "A parameter is malformed or out of range, or the body is not multipart/form-data.",
});
