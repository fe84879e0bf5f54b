//! The route table: every route the service answers, read once from the API description
//! plus the few routes outside it. The router, the metrics labels and the `Allow` header of
//! a 405 all come from it.

use poem::PathPattern;
use poem::http::Method;
use poem_openapi::{OpenApi, OperationId};

use super::api::RosterApi;

/// The routes of the document itself, each answering GET, routed next to the API.
pub const DOCUMENT_ROUTES: [&str; 3] = ["/docs", "/openapi.json", "/openapi.yaml"];

/// The API's own routes that its document leaves out (`hidden`): the users page, and the
/// embedded backend's avatar files, which `avatar_url` links to as it links to S3.
const UNDOCUMENTED_ROUTES: [&str; 2] = ["/", "/avatars/{key}"];

/// One route: its template as the document spells it (`/user/{email}`) and the methods it
/// answers, with their operation ids.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RouteEntry {
    template: String,
    methods: Vec<(Method, Option<&'static str>)>,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<RouteEntry>,
}

impl RouteTable {
    pub fn new() -> Self {
        let mut routes: Vec<RouteEntry> = RosterApi::meta()
            .into_iter()
            .flat_map(|api| api.paths)
            .map(|path| RouteEntry {
                template: path.path,
                methods: path
                    .operations
                    .iter()
                    .map(|operation| (operation.method.clone(), operation.operation_id))
                    .collect(),
            })
            .collect();
        for template in UNDOCUMENTED_ROUTES.into_iter().chain(DOCUMENT_ROUTES) {
            routes.push(RouteEntry {
                template: template.to_owned(),
                methods: vec![(Method::GET, None)],
            });
        }
        Self { routes }
    }

    /// The template of the matched route, never the raw path, so metrics and spans don't
    /// grow a series per user.
    pub fn label(&self, operation: Option<&OperationId>, pattern: Option<&PathPattern>) -> &str {
        let by_operation = operation.and_then(|operation| {
            self.routes
                .iter()
                .find(|route| route.methods.iter().any(|(_, id)| *id == Some(operation.0)))
        });
        by_operation
            .or_else(|| pattern.and_then(|pattern| self.by_pattern(pattern)))
            .map_or("unmatched", |route| route.template.as_str())
    }

    /// The methods the matched route answers, for the `Allow` header of a 405 (RFC 9110
    /// requires it).
    pub fn allowed_methods(&self, pattern: &PathPattern) -> Option<String> {
        let route = self.by_pattern(pattern)?;
        let mut methods: Vec<&str> = route
            .methods
            .iter()
            .map(|(method, _)| method.as_str())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
    }

    /// The route whose template has the router's pattern's shape: the same literal segments,
    /// and a parameter (`{email}` in the document, `:param0` in the router) where it has one.
    fn by_pattern(&self, pattern: &PathPattern) -> Option<&RouteEntry> {
        self.routes
            .iter()
            .find(|route| same_shape(&route.template, &pattern.0))
    }
}

fn same_shape(template: &str, pattern: &str) -> bool {
    let is_parameter = |segment: &str| segment.starts_with('{') || segment.starts_with(':');
    let mut template = template.split('/');
    let mut pattern = pattern.split('/');
    loop {
        match (template.next(), pattern.next()) {
            (None, None) => return true,
            (Some(ours), Some(theirs)) => {
                let both_parameters = is_parameter(ours) && is_parameter(theirs);
                if !(both_parameters || ours == theirs) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_with_the_documented_template() {
        let table = RouteTable::new();
        let get_user = OperationId("getUser");
        let raw = PathPattern("/user/:param0".into());
        assert_eq!(table.label(Some(&get_user), Some(&raw)), "/user/{email}");
        assert_eq!(table.label(None, Some(&raw)), "/user/{email}");
        let spec = PathPattern("/openapi.json".into());
        assert_eq!(table.label(None, Some(&spec)), "/openapi.json");
        assert_eq!(
            table.label(None, Some(&PathPattern("".into()))),
            "unmatched"
        );
        assert_eq!(table.label(None, None), "unmatched");
    }

    #[test]
    fn a_405_names_the_methods_the_route_answers() {
        let table = RouteTable::new();
        let allowed = |pattern: &str| table.allowed_methods(&PathPattern(pattern.into()));
        assert_eq!(allowed("/user/:param0").as_deref(), Some("DELETE, GET"));
        assert_eq!(allowed("/user").as_deref(), Some("POST"));
        assert_eq!(allowed("/healthz").as_deref(), Some("GET"));
        assert_eq!(allowed("/openapi.json").as_deref(), Some("GET"));
        assert_eq!(allowed("/avatars/:param0").as_deref(), Some("GET"));
        assert_eq!(allowed("/").as_deref(), Some("GET"));
        assert_eq!(allowed("/nowhere"), None);
    }
}
