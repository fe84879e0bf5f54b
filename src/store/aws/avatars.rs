//! Avatar objects in an S3 bucket, under `avatars/`, with their content type and cache
//! lifetime.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use tracing::Instrument;

use super::{aws_span, classify};
use crate::domain::{Avatar, AvatarKey, Spooled};
use crate::store::{AvatarStore, ObjectPage, StoreError, StoredObject};

pub struct S3Avatars {
    client: aws_sdk_s3::Client,
    bucket: String,
    cache_control: String,
}

impl S3Avatars {
    pub(super) fn new(client: aws_sdk_s3::Client, bucket: String, cache_control: String) -> Self {
        Self {
            client,
            bucket,
            cache_control,
        }
    }
}

#[async_trait]
impl AvatarStore for S3Avatars {
    #[tracing::instrument(name = "aws.put_avatar", skip_all, fields(key = %key))]
    async fn put(&self, key: &AvatarKey, avatar: &Avatar) -> Result<(), StoreError> {
        let body = match avatar.spooled() {
            Spooled::Memory(bytes) => ByteStream::from(bytes.clone()),
            Spooled::File(file) => ByteStream::from_path(file.path())
                .await
                .map_err(|error| StoreError::internal("S3.PutObject", error))?,
        };
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .body(body)
            .content_type(avatar.format().content_type())
            .content_length(i64::try_from(avatar.size()).unwrap_or(i64::MAX))
            .cache_control(&self.cache_control)
            .send()
            .instrument(aws_span("S3", "PutObject"))
            .await
            .map(drop)
            .map_err(|error| classify("S3.PutObject", error))
    }

    #[tracing::instrument(name = "aws.delete_avatar", skip_all, fields(key = %key))]
    async fn delete(&self, key: &AvatarKey) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .send()
            .instrument(aws_span("S3", "DeleteObject"))
            .await
            .map(drop)
            .map_err(|error| classify("S3.DeleteObject", error))
    }

    async fn list(&self, continuation: Option<String>) -> Result<ObjectPage, StoreError> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(AvatarKey::PREFIX)
            .set_continuation_token(continuation)
            .send()
            .instrument(aws_span("S3", "ListObjectsV2"))
            .await
            .map_err(|error| classify("S3.ListObjectsV2", error))?;
        let objects = output
            .contents()
            .iter()
            .filter_map(|object| {
                let key = AvatarKey::parse(object.key()?)?;
                let modified = object
                    .last_modified()
                    .and_then(|time| SystemTime::try_from(*time).ok())?;
                Some(StoredObject { key, modified })
            })
            .collect();
        let next = output
            .is_truncated()
            .unwrap_or(false)
            .then(|| output.next_continuation_token().map(str::to_owned))
            .flatten();
        Ok(ObjectPage { objects, next })
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .instrument(aws_span("S3", "HeadBucket"))
            .await
            .map(drop)
            .map_err(|error| classify("S3.HeadBucket", error))
    }
}
