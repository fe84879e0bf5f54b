//! The `POST /user` body: multipart/form-data parsed as it streams, with the avatar
//! counted byte by byte into a temporary file. An avatar over the limit is refused with 413
//! as soon as the limit is crossed, whatever `Content-Length` says (or doesn't, for chunked
//! bodies), so the body is never held in memory, and the rest of it is never read.

use std::io;
use std::sync::Arc;

use multer::{Constraints, Multipart, SizeLimit};
use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{Request, RequestBody};
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::domain::{MAX_EMAIL_CHARS, MAX_NAME_CHARS};

const MULTIPART_FORM_DATA: &str = "multipart/form-data";

/// Room for the multipart framing and the two text fields around the avatar.
const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

/// Text fields are read into memory; anything this long is far past every limit already.
const MAX_TEXT_FIELD_BYTES: usize = 4 * 1024;

/// The most a spool write holds in memory before it reaches the file.
const SPOOL_WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// The avatar byte limit in force, put into each request's data by the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct AvatarByteLimit(pub u64);

/// How many uploads are read at once. Each one being read holds the HTTP stack's and the
/// multipart parser's buffers (about 1.5 MiB when the client sends fast); the others wait
/// with their bodies still in the kernel, so memory stays bounded however many arrive.
pub const CONCURRENT_UPLOADS: usize = 16;

/// How long an upload may wait for its turn before it is answered 503.
const UPLOAD_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The turns to read an upload, shared by every request.
#[derive(Debug, Clone)]
pub struct UploadSlots(Arc<tokio::sync::Semaphore>);

impl Default for UploadSlots {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(CONCURRENT_UPLOADS)))
    }
}

/// A create-user form as it arrived: the text fields as sent and the avatar spooled to a
/// temporary file (deleted when dropped). The domain judges the content afterwards.
#[derive(Debug)]
pub struct UserUpload {
    pub name: String,
    pub email: String,
    pub avatar: NamedTempFile,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the body is not valid multipart/form-data: {0}")]
    Malformed(String),
    #[error("the form lacks the field `{0}`")]
    MissingField(&'static str),
    #[error("the field `{0}` was given more than once")]
    DuplicateField(&'static str),
    #[error("unknown form field {0:?}; the form has exactly name, email and avatar")]
    UnknownField(String),
    #[error("the field `{0}` must be UTF-8 text")]
    NotText(&'static str),
    #[error("the field `{0}` is far too long")]
    TextTooLong(&'static str),
    #[error("the avatar is larger than the limit of {0} bytes")]
    AvatarTooLarge(u64),
    #[error("the upload could not be written to temporary storage")]
    Spool(#[source] io::Error),
    #[error("too many uploads are in progress; retry later")]
    Busy,
}

impl ResponseError for UploadError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_)
            | Self::MissingField(_)
            | Self::DuplicateField(_)
            | Self::UnknownField(_)
            | Self::NotText(_) => StatusCode::BAD_REQUEST,
            Self::TextTooLong(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::AvatarTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Spool(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl Payload for UserUpload {
    const CONTENT_TYPE: &'static str = MULTIPART_FORM_DATA;

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .parse::<mime::Mime>()
            .is_ok_and(|mime| mime.essence_str() == MULTIPART_FORM_DATA)
    }

    fn schema_ref() -> MetaSchemaRef {
        let text = |description, min_length, max_length, format| {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                description: Some(description),
                min_length,
                max_length: Some(max_length),
                format,
                ..MetaSchema::new("string")
            }))
        };
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            required: vec!["name", "email", "avatar"],
            properties: vec![
                (
                    "name",
                    text(
                        "Display name; trimmed, 1 to 100 characters, no control characters.",
                        Some(1),
                        MAX_NAME_CHARS,
                        None,
                    ),
                ),
                (
                    "email",
                    text(
                        "Email address, unique case-insensitively; stored lower-cased.",
                        Some(3),
                        MAX_EMAIL_CHARS,
                        Some("email"),
                    ),
                ),
                (
                    "avatar",
                    MetaSchemaRef::Inline(Box::new(MetaSchema {
                        description: Some(
                            "PNG, JPEG, GIF or WebP image, judged by its bytes; at most \
                             ROSTER_MAX_AVATAR_BYTES bytes (default 5 MiB) and \
                             ROSTER_MAX_AVATAR_PIXELS pixels (default 25,000,000, read \
                             from the header). It is stored without its metadata, \
                             losslessly: EXIF, XMP, IPTC, comments and text chunks are \
                             removed; pixels, ICC profile and EXIF orientation are kept \
                             (the orientation as a minimal EXIF); an image without \
                             metadata is stored byte for byte.",
                        ),
                        format: Some("binary"),
                        ..MetaSchema::new("string")
                    })),
                ),
            ],
            ..MetaSchema::new("object")
        }))
    }
}

impl ParsePayload for UserUpload {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = request
            .data::<AvatarByteLimit>()
            .map_or(u64::MAX, |limit| limit.0);
        let _turn = match request.data::<UploadSlots>() {
            Some(slots) => Some(
                tokio::time::timeout(UPLOAD_QUEUE_TIMEOUT, Arc::clone(&slots.0).acquire_owned())
                    .await
                    .map_err(|_| UploadError::Busy)?
                    .map_err(|_| UploadError::Busy)?,
            ),
            None => None,
        };
        Ok(read_form(request, body, limit).await?)
    }
}

impl_apirequest_for_payload!(UserUpload);

async fn read_form(
    request: &Request,
    body: &mut RequestBody,
    avatar_limit: u64,
) -> Result<UserUpload, UploadError> {
    let stream_limit = avatar_limit.saturating_add(FORM_OVERHEAD_BYTES);
    let declared_length = request
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|length| length.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > stream_limit) {
        return Err(UploadError::AvatarTooLarge(avatar_limit));
    }
    let boundary = request
        .content_type()
        .ok_or_else(|| UploadError::Malformed("no Content-Type".into()))
        .and_then(|content_type| {
            multer::parse_boundary(content_type)
                .map_err(|error| UploadError::Malformed(error.to_string()))
        })?;
    let stream = body
        .take()
        .map_err(|error| UploadError::Malformed(error.to_string()))?
        .into_bytes_stream();
    let constraints = Constraints::new().size_limit(SizeLimit::new().whole_stream(stream_limit));
    let mut multipart = Multipart::with_constraints(stream, boundary, constraints);

    let mut name = None;
    let mut email = None;
    let mut avatar = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| multipart_error(error, avatar_limit))?
    {
        match field.name() {
            Some("name") => set_once(
                &mut name,
                "name",
                read_text(field, "name", avatar_limit).await?,
            )?,
            Some("email") => set_once(
                &mut email,
                "email",
                read_text(field, "email", avatar_limit).await?,
            )?,
            Some("avatar") => {
                if avatar.is_some() {
                    return Err(UploadError::DuplicateField("avatar"));
                }
                avatar = Some(spool(field, avatar_limit).await?);
            }
            other => {
                return Err(UploadError::UnknownField(
                    other.unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    Ok(UserUpload {
        name: name.ok_or(UploadError::MissingField("name"))?,
        email: email.ok_or(UploadError::MissingField("email"))?,
        avatar: avatar.ok_or(UploadError::MissingField("avatar"))?,
    })
}

fn set_once(
    slot: &mut Option<String>,
    field: &'static str,
    value: String,
) -> Result<(), UploadError> {
    if slot.replace(value).is_some() {
        return Err(UploadError::DuplicateField(field));
    }
    Ok(())
}

async fn read_text(
    mut field: multer::Field<'_>,
    name: &'static str,
    avatar_limit: u64,
) -> Result<String, UploadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| multipart_error(error, avatar_limit))?
    {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(UploadError::TextTooLong(name));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| UploadError::NotText(name))
}

/// Streams the avatar into a temporary file, stopping as soon as it passes the limit.
async fn spool(mut field: multer::Field<'_>, limit: u64) -> Result<NamedTempFile, UploadError> {
    let spooled = tokio::task::spawn_blocking(NamedTempFile::new)
        .await
        .map_err(|error| UploadError::Spool(io::Error::other(error)))?
        .map_err(UploadError::Spool)?;
    let handle = spooled.as_file().try_clone().map_err(UploadError::Spool)?;
    let mut file = tokio::fs::File::from_std(handle);
    // tokio's file buffers up to 2 MiB per write by default; with many uploads at once
    // that, not the upload itself, would set the memory peak.
    file.set_max_buf_size(SPOOL_WRITE_BUFFER_BYTES);
    let mut written: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| multipart_error(error, limit))?
    {
        written += chunk.len() as u64;
        if written > limit {
            return Err(UploadError::AvatarTooLarge(limit));
        }
        file.write_all(&chunk).await.map_err(UploadError::Spool)?;
    }
    file.flush().await.map_err(UploadError::Spool)?;
    Ok(spooled)
}

fn multipart_error(error: multer::Error, avatar_limit: u64) -> UploadError {
    match error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            UploadError::AvatarTooLarge(avatar_limit)
        }
        other => UploadError::Malformed(other.to_string()),
    }
}

#[cfg(test)]
fn body_of(bytes: &'static [u8]) -> RequestBody {
    RequestBody::new(poem::Body::from_bytes(bytes::Bytes::from_static(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_request(body: &'static [u8]) -> (Request, RequestBody) {
        let request = Request::builder()
            .content_type("multipart/form-data; boundary=X")
            .finish();
        (request, body_of(body))
    }

    #[tokio::test]
    async fn reads_the_three_fields_in_any_order() {
        let (request, mut body) = form_request(
            b"--X\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\nPNGDATA\r\n\
              --X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n\
              --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
        );
        let upload = read_form(&request, &mut body, 100).await.unwrap();
        assert_eq!(upload.name, "Ann");
        assert_eq!(upload.email, "a@example.com");
        assert_eq!(std::fs::read(upload.avatar.path()).unwrap(), b"PNGDATA");
    }

    #[tokio::test]
    async fn refuses_an_avatar_one_byte_over_the_limit() {
        let (request, mut body) = form_request(
            b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n12345\r\n--X--\r\n",
        );
        let error = read_form(&request, &mut body, 4).await.unwrap_err();
        assert!(matches!(error, UploadError::AvatarTooLarge(4)), "{error}");
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn accepts_an_avatar_exactly_at_the_limit() {
        let (request, mut body) = form_request(
            b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n1234\r\n\
              --X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n\
              --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
        );
        assert!(read_form(&request, &mut body, 4).await.is_ok());
    }

    #[tokio::test]
    async fn a_field_given_twice_is_a_bad_request() {
        let (request, mut body) = form_request(
            b"--X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n\
              --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nBob\r\n--X--\r\n",
        );
        let error = read_form(&request, &mut body, 100).await.unwrap_err();
        assert!(
            matches!(error, UploadError::DuplicateField("name")),
            "{error}"
        );
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_missing_field_is_a_bad_request() {
        let (request, mut body) = form_request(
            b"--X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
        );
        let error = read_form(&request, &mut body, 100).await.unwrap_err();
        assert!(
            matches!(error, UploadError::MissingField("email")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_unknown_field_is_a_bad_request() {
        let (request, mut body) = form_request(
            b"--X\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\nadmin\r\n--X--\r\n",
        );
        let error = read_form(&request, &mut body, 100).await.unwrap_err();
        assert!(matches!(error, UploadError::UnknownField(ref field) if field == "role"));
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let request = Request::builder()
            .content_type("multipart/form-data; boundary=X")
            .header("content-length", (10 + FORM_OVERHEAD_BYTES + 1).to_string())
            .finish();
        let mut body = body_of(b"");
        let error = read_form(&request, &mut body, 10).await.unwrap_err();
        assert!(matches!(error, UploadError::AvatarTooLarge(10)));
    }

    #[test]
    fn accepts_multipart_content_types_with_parameters_only() {
        assert!(UserUpload::check_content_type(
            "multipart/form-data; boundary=abc"
        ));
        assert!(!UserUpload::check_content_type("application/json"));
        assert!(!UserUpload::check_content_type(
            "multipart/mixed; boundary=abc"
        ));
    }
}
