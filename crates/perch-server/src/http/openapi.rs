//! The machine-readable contract: `GET /api/openapi.json` (OpenAPI 3.1,
//! generated from the `#[utoipa::path]` annotations on the handlers and the
//! `ToSchema` entities) and `GET /api/docs` (Swagger UI, vendored: no
//! internet needed).

use crate::http::HttpState;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    accounts, authorize, discovery, health, inbox, instance, media, notifications, oauth, ops,
    search, start_up, status, statuses,
};

/// The OpenAPI document of every route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Perch",
        description = "A Mastodon-compatible client API subset, ActivityPub discovery, health and metrics.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        oauth::create_app,
        oauth::register,
        oauth::token,
        oauth::revoke,
        oauth::verify_credentials,
        authorize::show,
        authorize::decide,
        discovery::webfinger,
        discovery::nodeinfo_links,
        discovery::nodeinfo,
        discovery::actor,
        discovery::outbox,
        discovery::instance_actor,
        accounts::show,
        accounts::lookup,
        accounts::relationships,
        accounts::update_credentials,
        accounts::account_statuses,
        accounts::followers,
        accounts::following,
        accounts::follow,
        accounts::unfollow,
        statuses::create,
        statuses::show,
        statuses::remove,
        statuses::favourite,
        statuses::unfavourite,
        statuses::favourites,
        statuses::public,
        statuses::home,
        instance::v1,
        instance::v2,
        start_up::custom_emojis,
        start_up::filters_v1,
        start_up::filters_v2,
        start_up::lists,
        start_up::account_lists,
        start_up::followed_tags,
        start_up::announcements,
        start_up::conversations,
        start_up::trends_tags,
        start_up::trends_statuses,
        start_up::trends_links,
        start_up::preferences,
        start_up::context,
        notifications::list,
        notifications::show,
        notifications::dismiss,
        notifications::clear,
        notifications::unread_count,
        notifications::markers,
        notifications::save_markers,
        search::search_v2,
        search::accounts_search,
        search::favourited_by,
        media::upload_v2,
        media::upload,
        media::show,
        media::update,
        media::file,
        health::health,
        ops::render,
        status::page,
        status::figures,
        inbox::personal,
        inbox::shared,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme (JWT access tokens).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
}
