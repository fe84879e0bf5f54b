//! What every handler shares, handed to the API when it is built: the service, how uploads
//! are read, and the metrics registry. Nothing here can be missing at request time.

use metrics_exporter_prometheus::PrometheusHandle;

use super::listing::PageCache;
use super::upload::UploadReader;
use crate::service::UserService;

pub struct AppState {
    service: UserService,
    uploads: UploadReader,
    list_page_size: usize,
    avatar_cache_control: String,
    metrics: PrometheusHandle,
    pages: PageCache,
}

impl AppState {
    pub fn new(
        service: UserService,
        uploads: UploadReader,
        list_page_size: usize,
        avatar_cache_control: String,
        metrics: PrometheusHandle,
    ) -> Self {
        Self {
            service,
            uploads,
            list_page_size,
            avatar_cache_control,
            metrics,
            pages: PageCache::default(),
        }
    }

    pub fn service(&self) -> &UserService {
        &self.service
    }

    pub fn uploads(&self) -> &UploadReader {
        &self.uploads
    }

    /// The listing's rendered pages.
    pub fn pages(&self) -> &PageCache {
        &self.pages
    }

    pub fn list_page_size(&self) -> usize {
        self.list_page_size
    }

    /// `Cache-Control` of the avatars this server serves itself.
    pub fn avatar_cache_control(&self) -> &str {
        &self.avatar_cache_control
    }

    pub fn render_metrics(&self) -> String {
        self.metrics.render()
    }
}
