//! The users page at `/`: one self-contained HTML file (no external assets, no build
//! step) that talks to the API from the browser.

use poem_openapi::ApiResponse;
use poem_openapi::payload::Html;

const USERS_PAGE: &str = include_str!("page/index.html");

/// Scripts and styles come only from the page itself; avatars may live on another origin
/// (S3, a CDN, an emulator), so images may come from anywhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src * data: blob:; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(ApiResponse)]
pub enum UsersPage {
    #[oai(status = 200)]
    Page(
        Html<&'static str>,
        #[oai(header = "Content-Security-Policy")] String,
        #[oai(header = "X-Content-Type-Options")] String,
    ),
}

impl UsersPage {
    pub fn render() -> Self {
        Self::Page(
            Html(USERS_PAGE),
            CONTENT_SECURITY_POLICY.to_owned(),
            "nosniff".to_owned(),
        )
    }
}
