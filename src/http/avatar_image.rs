//! The response of `GET /avatars/{key}`: the file streamed with its image content type.

use poem::http::header;
use poem::{Body, IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};

use crate::domain::ImageFormat;
use crate::store::AvatarFile;

pub struct AvatarImage {
    format: ImageFormat,
    length: u64,
    file: tokio::fs::File,
}

impl AvatarImage {
    pub async fn open(avatar: AvatarFile) -> std::io::Result<Self> {
        let file = tokio::fs::File::open(&avatar.path).await?;
        let length = file.metadata().await?.len();
        Ok(Self {
            format: avatar.format,
            length,
            file,
        })
    }
}

impl IntoResponse for AvatarImage {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(self.format.content_type())
            .header(header::CONTENT_LENGTH, self.length)
            // Keys are never reused, so the bytes behind one never change.
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .header("x-content-type-options", "nosniff")
            .body(Body::from_async_read(self.file))
    }
}

impl ApiResponse for AvatarImage {
    fn meta() -> MetaResponses {
        let binary =
            || MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")));
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The avatar image, with the content type of its format.",
                status: Some(200),
                status_range: None,
                content: ["image/png", "image/jpeg", "image/gif", "image/webp"]
                    .into_iter()
                    .map(|content_type| MetaMediaType {
                        content_type,
                        schema: binary(),
                    })
                    .collect(),
                headers: Vec::new(),
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}
