//! The `POST /user` body: multipart/form-data parsed as it streams, with the avatar
//! counted byte by byte into memory (a small one) or a temporary file. An avatar over the limit is refused with 413
//! as soon as the limit is crossed, whatever `Content-Length` says (or doesn't, for chunked
//! bodies), so the body is never held in memory, and the rest of it is never read.
//!
//! Every wait has an end: a body that goes silent for the stall timeout, or that has not
//! arrived by the upload deadline, is answered 408 and its spool space freed at once.
//! Spool space is reserved as bytes arrive (see [`SpoolBudget`]), so slow senders hold only
//! what they sent and cannot keep anyone else from uploading.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use multer::{Constraints, Multipart, SizeLimit};
use poem::{Request, RequestBody};
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::domain::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, Spooled};
use crate::service::{SpoolBudget, SpoolExhausted, SpoolLease, Upload};

const MULTIPART_FORM_DATA: &str = "multipart/form-data";

/// Room for the multipart framing and the two text fields around the avatar.
const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

/// Text fields are read into memory; anything this long is far past every limit already.
const MAX_TEXT_FIELD_BYTES: usize = 4 * 1024;

/// The most a spool write holds in memory before it reaches the file.
const SPOOL_WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// How uploads are read.
#[derive(Debug, Clone, Copy)]
pub struct UploadSettings {
    pub max_avatar_bytes: u64,
    /// Longest silence while the body is read.
    pub stall_timeout: Duration,
    /// The whole body must have arrived within this.
    pub deadline: Duration,
}

/// Reads create-user forms, with the limits and the spool budget in force.
#[derive(Debug, Clone)]
pub struct UploadReader {
    settings: UploadSettings,
    spool: SpoolBudget,
}

/// The body of `POST /user` as it arrives, not yet read: reading it needs the limits and
/// the spool budget, which the handler holds.
pub struct UserUpload {
    content_type: Option<String>,
    declared_length: Option<u64>,
    body: poem::Body,
}

/// A create-user form as it arrived: the text fields as sent and the avatar spooled
/// (a temporary file is deleted when dropped). The domain judges the content afterwards.
pub struct UserForm {
    pub name: String,
    pub email: String,
    pub avatar: Upload,
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
    #[error("the body stopped arriving for {0:?}")]
    Stalled(Duration),
    #[error("the body did not arrive within {0:?}")]
    TooSlow(Duration),
    #[error("temporary upload space is exhausted")]
    SpoolFull(#[from] SpoolExhausted),
    #[error("the upload could not be written to temporary storage")]
    Spool(#[source] io::Error),
}

impl UploadReader {
    pub fn new(settings: UploadSettings, spool: SpoolBudget) -> Self {
        Self { settings, spool }
    }

    pub fn settings(&self) -> UploadSettings {
        self.settings
    }

    /// Reads the whole form within the upload deadline.
    pub async fn read(&self, upload: UserUpload) -> Result<UserForm, UploadError> {
        let deadline = Instant::now() + self.settings.deadline;
        let stalled = Arc::new(AtomicBool::new(false));
        let reading = self.read_form(upload, Arc::clone(&stalled));
        let result = match tokio::time::timeout_at(deadline, reading).await {
            Ok(result) => result,
            Err(_) => Err(UploadError::TooSlow(self.settings.deadline)),
        };
        let reason = match &result {
            Err(UploadError::TooSlow(_)) => Some("deadline"),
            Err(_) if stalled.load(Ordering::Relaxed) => Some("stalled"),
            _ => None,
        };
        if let Some(reason) = reason {
            metrics::counter!("roster_uploads_ended_total", "reason" => reason).increment(1);
        }
        if stalled.load(Ordering::Relaxed) && result.is_err() {
            return Err(UploadError::Stalled(self.settings.stall_timeout));
        }
        result
    }

    async fn read_form(
        &self,
        upload: UserUpload,
        stalled: Arc<AtomicBool>,
    ) -> Result<UserForm, UploadError> {
        let avatar_limit = self.settings.max_avatar_bytes;
        let stream_limit = avatar_limit.saturating_add(FORM_OVERHEAD_BYTES);
        if upload
            .declared_length
            .is_some_and(|length| length > stream_limit)
        {
            return Err(UploadError::AvatarTooLarge(avatar_limit));
        }
        let boundary = upload
            .content_type
            .as_deref()
            .ok_or_else(|| UploadError::Malformed("no Content-Type".into()))
            .and_then(|content_type| {
                multer::parse_boundary(content_type)
                    .map_err(|error| UploadError::Malformed(error.to_string()))
            })?;
        let stream = stall_bounded(
            upload.body.into_bytes_stream(),
            self.settings.stall_timeout,
            stalled,
        );
        let constraints =
            Constraints::new().size_limit(SizeLimit::new().whole_stream(stream_limit));
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
                    avatar = Some(self.spool(field, upload.declared_length).await?);
                }
                other => {
                    return Err(UploadError::UnknownField(
                        other.unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        Ok(UserForm {
            name: name.ok_or(UploadError::MissingField("name"))?,
            email: email.ok_or(UploadError::MissingField("email"))?,
            avatar: avatar.ok_or(UploadError::MissingField("avatar"))?,
        })
    }

    /// Streams the avatar into memory or, once it is too large for memory or the memory
    /// pool is full, into a temporary file with disk reserved for the whole upload
    /// (`declared_length` bounds it, the limit otherwise), stopping as soon as it passes
    /// the limit.
    async fn spool(
        &self,
        mut field: multer::Field<'_>,
        declared_length: Option<u64>,
    ) -> Result<Upload, UploadError> {
        let limit = self.settings.max_avatar_bytes;
        let expected = declared_length.map_or(limit, |length| length.min(limit));
        let mut lease: SpoolLease = self.spool.lease();
        let mut in_memory = Vec::new();
        let mut in_file: Option<(NamedTempFile, tokio::fs::File)> = None;
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
            match in_file.as_mut() {
                Some((_, file)) => {
                    // Past what was expected only if the declared length was wrong.
                    lease.cover(written).await?;
                    file.write_all(&chunk).await.map_err(UploadError::Spool)?;
                }
                None if lease.hold_in_memory(written) => in_memory.extend_from_slice(&chunk),
                None => {
                    lease.cover(expected.max(written)).await?;
                    let (spooled, mut file) = spool_file().await?;
                    file.write_all(&in_memory)
                        .await
                        .map_err(UploadError::Spool)?;
                    file.write_all(&chunk).await.map_err(UploadError::Spool)?;
                    in_memory = Vec::new();
                    lease.leave_memory();
                    in_file = Some((spooled, file));
                }
            }
        }
        let bytes = match in_file {
            Some((spooled, mut file)) => {
                file.flush().await.map_err(UploadError::Spool)?;
                Spooled::File(spooled)
            }
            None => Spooled::Memory(Bytes::from(in_memory)),
        };
        Ok(Upload { bytes, lease })
    }
}

/// A new temporary file, and a handle that writes to it.
async fn spool_file() -> Result<(NamedTempFile, tokio::fs::File), UploadError> {
    let spooled = tokio::task::spawn_blocking(NamedTempFile::new)
        .await
        .map_err(|error| UploadError::Spool(io::Error::other(error)))?
        .map_err(UploadError::Spool)?;
    let handle = spooled.as_file().try_clone().map_err(UploadError::Spool)?;
    let mut file = tokio::fs::File::from_std(handle);
    // tokio's file buffers up to 2 MiB per write by default; with many uploads at once
    // that, not the upload itself, would set the memory peak.
    file.set_max_buf_size(SPOOL_WRITE_BUFFER_BYTES);
    Ok((spooled, file))
}

/// A body stream that fails when no chunk arrives for `stall_timeout`, raising `stalled`.
fn stall_bounded(
    body: impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    stall_timeout: Duration,
    stalled: Arc<AtomicBool>,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    futures_util::stream::unfold(Some(Box::pin(body)), move |body| {
        let stalled = Arc::clone(&stalled);
        async move {
            let mut body = body?;
            match tokio::time::timeout(stall_timeout, body.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(body))),
                Ok(None) => None,
                Err(_) => {
                    stalled.store(true, Ordering::Relaxed);
                    let error = io::Error::new(io::ErrorKind::TimedOut, "the body stalled");
                    Some((Err(error), None))
                }
            }
        }
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

fn multipart_error(error: multer::Error, avatar_limit: u64) -> UploadError {
    match error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            UploadError::AvatarTooLarge(avatar_limit)
        }
        other => UploadError::Malformed(other.to_string()),
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
        Ok(Self {
            content_type: request.content_type().map(str::to_owned),
            declared_length: request
                .header(poem::http::header::CONTENT_LENGTH)
                .and_then(|length| length.parse::<u64>().ok()),
            body: body.take()?,
        })
    }
}

impl_apirequest_for_payload!(UserUpload);

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: UploadSettings = UploadSettings {
        max_avatar_bytes: 100,
        stall_timeout: Duration::from_millis(200),
        deadline: Duration::from_millis(1000),
    };

    fn reader(max_avatar_bytes: u64) -> UploadReader {
        UploadReader::new(
            UploadSettings {
                max_avatar_bytes,
                ..SETTINGS
            },
            SpoolBudget::new(1 << 20, Duration::from_millis(100)),
        )
    }

    fn upload(body: &'static [u8]) -> UserUpload {
        UserUpload {
            content_type: Some("multipart/form-data; boundary=X".to_owned()),
            declared_length: None,
            body: poem::Body::from(body),
        }
    }

    fn status(error: &UploadError) -> u16 {
        crate::http::problem::HttpStatuses::status(error)
    }

    #[tokio::test]
    async fn reads_the_three_fields_in_any_order() {
        let form = reader(100)
            .read(upload(
                b"--X\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\nPNGDATA\r\n\
                  --X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n\
                  --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
            ))
            .await
            .unwrap();
        assert_eq!(form.name, "Ann");
        assert_eq!(form.email, "a@example.com");
        assert_eq!(spooled_bytes(&form.avatar.bytes), b"PNGDATA");
        assert!(matches!(form.avatar.bytes, Spooled::Memory(_)));
    }

    fn spooled_bytes(spooled: &Spooled) -> Vec<u8> {
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut spooled.reader().unwrap(), &mut bytes).unwrap();
        bytes
    }

    /// A multipart body whose avatar is `avatar`, sent in 1000-byte chunks with a pause
    /// between them, as a network delivers it.
    fn chunked_upload(avatar: &[u8], pause: Duration) -> UserUpload {
        let mut body = b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n".to_vec();
        body.extend_from_slice(avatar);
        body.extend_from_slice(
            b"\r\n--X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n\
              --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
        );
        let declared_length = Some(body.len() as u64);
        let chunks: Vec<Bytes> = body.chunks(1000).map(Bytes::copy_from_slice).collect();
        let stream = futures_util::stream::iter(chunks).then(move |chunk| async move {
            tokio::time::sleep(pause).await;
            Ok::<_, io::Error>(chunk)
        });
        UserUpload {
            content_type: Some("multipart/form-data; boundary=X".to_owned()),
            declared_length,
            body: poem::Body::from_bytes_stream(stream),
        }
    }

    #[tokio::test]
    async fn a_burst_of_large_uploads_past_the_disk_budget_finishes_in_turn() {
        let avatar_bytes = crate::service::IN_MEMORY_UPLOAD_BYTES * 2;
        let upload_reader = UploadReader::new(
            UploadSettings {
                max_avatar_bytes: avatar_bytes,
                stall_timeout: Duration::from_secs(5),
                deadline: Duration::from_secs(20),
            },
            // Room on disk for two uploads and their stripped copies; eight arrive at once.
            SpoolBudget::new(2 * 2 * avatar_bytes, Duration::from_secs(10)),
        );
        let avatar = vec![7u8; avatar_bytes as usize];
        let reads = (0..8).map(|_| {
            let upload_reader = upload_reader.clone();
            let upload = chunked_upload(&avatar, Duration::from_micros(200));
            tokio::spawn(async move { upload_reader.read(upload).await.map(drop) })
        });
        for read in futures_util::future::join_all(reads).await {
            read.unwrap().expect("every upload gets its turn");
        }
    }

    #[tokio::test]
    async fn an_avatar_past_the_in_memory_limit_moves_to_a_file_whole() {
        let large: Vec<u8> = (0..crate::service::IN_MEMORY_UPLOAD_BYTES + 4096)
            .map(|index| (index % 251) as u8)
            .collect();
        let mut body = b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n".to_vec();
        body.extend_from_slice(&large);
        body.extend_from_slice(
            b"\r\n--X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n\
              --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
        );
        // Small chunks, as a network delivers them: the move happens mid-upload.
        let chunks: Vec<Result<Bytes, io::Error>> = body
            .chunks(1000)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        let form = reader(1 << 18)
            .read(UserUpload {
                content_type: Some("multipart/form-data; boundary=X".to_owned()),
                declared_length: None,
                body: poem::Body::from_bytes_stream(futures_util::stream::iter(chunks)),
            })
            .await
            .unwrap();
        assert!(matches!(form.avatar.bytes, Spooled::File(_)));
        assert_eq!(spooled_bytes(&form.avatar.bytes), large);
    }

    #[tokio::test]
    async fn refuses_an_avatar_one_byte_over_the_limit() {
        let error = reader(4)
            .read(upload(
                b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n12345\r\n--X--\r\n",
            ))
            .await
            .err()
            .unwrap();
        assert!(matches!(error, UploadError::AvatarTooLarge(4)), "{error}");
        assert_eq!(status(&error), 413);
    }

    #[tokio::test]
    async fn accepts_an_avatar_exactly_at_the_limit() {
        let form = reader(4)
            .read(upload(
                b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n1234\r\n\
                  --X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n\
                  --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
            ))
            .await;
        assert!(form.is_ok());
    }

    #[tokio::test]
    async fn a_field_given_twice_is_a_bad_request() {
        let error = reader(100)
            .read(upload(
                b"--X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n\
                  --X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nBob\r\n--X--\r\n",
            ))
            .await
            .err()
            .unwrap();
        assert!(
            matches!(error, UploadError::DuplicateField("name")),
            "{error}"
        );
        assert_eq!(status(&error), 400);
    }

    #[tokio::test]
    async fn a_missing_field_is_a_bad_request() {
        let error = reader(100)
            .read(upload(
                b"--X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--X--\r\n",
            ))
            .await
            .err()
            .unwrap();
        assert!(
            matches!(error, UploadError::MissingField("email")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_unknown_field_is_a_bad_request() {
        let error = reader(100)
            .read(upload(
                b"--X\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\nadmin\r\n--X--\r\n",
            ))
            .await
            .err()
            .unwrap();
        assert!(matches!(error, UploadError::UnknownField(ref field) if field == "role"));
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let oversized = UserUpload {
            declared_length: Some(10 + FORM_OVERHEAD_BYTES + 1),
            ..upload(b"")
        };
        let error = reader(10).read(oversized).await.err().unwrap();
        assert!(matches!(error, UploadError::AvatarTooLarge(10)));
    }

    /// A body that sends `opening` and then nothing, ever.
    fn silent_after(opening: &'static [u8]) -> UserUpload {
        let stream =
            futures_util::stream::once(
                async move { Ok::<_, io::Error>(Bytes::from_static(opening)) },
            )
            .chain(futures_util::stream::pending());
        UserUpload {
            body: poem::Body::from_bytes_stream(stream),
            ..upload(b"")
        }
    }

    #[tokio::test]
    async fn a_body_that_goes_silent_is_ended_by_the_stall_timeout_with_408() {
        let error = reader(100)
            .read(silent_after(
                b"--X\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\n12",
            ))
            .await
            .err()
            .unwrap();
        assert!(matches!(error, UploadError::Stalled(_)), "{error}");
        assert_eq!(status(&error), 408);
    }

    #[tokio::test]
    async fn a_body_that_trickles_is_ended_by_the_deadline_with_408() {
        // A byte every 50 ms never stalls, but never finishes within the deadline.
        let trickle = futures_util::stream::unfold(0u32, |sent| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let byte: &'static [u8] = if sent == 0 { b"--X\r\n" } else { b"a" };
            Some((Ok::<_, io::Error>(Bytes::from_static(byte)), sent + 1))
        });
        let slow = UserUpload {
            body: poem::Body::from_bytes_stream(trickle),
            ..upload(b"")
        };
        let error = reader(100).read(slow).await.err().unwrap();
        assert!(matches!(error, UploadError::TooSlow(_)), "{error}");
        assert_eq!(status(&error), 408);
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
