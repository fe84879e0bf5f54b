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
    cache_control: String,
    file: tokio::fs::File,
}

impl AvatarImage {
    pub async fn open(avatar: AvatarFile, cache_control: &str) -> std::io::Result<Self> {
        let file = tokio::fs::File::open(&avatar.path).await?;
        let length = file.metadata().await?.len();
        Ok(Self {
            format: avatar.format,
            length,
            cache_control: cache_control.to_owned(),
            file,
        })
    }
}

impl IntoResponse for AvatarImage {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(self.format.content_type())
            .header(header::CONTENT_LENGTH, self.length)
            // Keys are never reused, so the bytes behind one never change; but a deleted
            // avatar must stop being served by shared caches within the max-age.
            .header(header::CACHE_CONTROL, self.cache_control)
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
