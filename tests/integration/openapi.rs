//! The OpenAPI document at `/api/v1/openapi.json` describes the API that is really served: every
//! route registered under `/api/v1` is in it with its method, and every operation in it answers
//! on the server. A route added without `#[utoipa::path]` (and a place in `ApiDoc`) fails here.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// Operations that need no bearer token.
const PUBLIC: [(&str, &str); 2] = [("post", "/api/v1/tokens"), ("get", "/api/v1/openapi.json")];

/// (method, path) of every handler that `api::configure` registers: each `.service(module::name)`
/// in src/api/mod.rs, looked up by its actix attribute (`#[post("/requests")]`) in that module.
fn registered_routes() -> BTreeSet<(String, String)> {
    let api = crate::repo::root().join("src/api");
    let configure = std::fs::read_to_string(api.join("mod.rs")).unwrap();
    for other in [".route(", "web::resource(", ".configure("] {
        assert!(!configure.contains(other), "src/api/mod.rs registers a route with {other}: scan it here too");
    }
    let mut routes = BTreeSet::new();
    for part in configure.split(".service(").skip(1) {
        let target = part.split(')').next().unwrap().trim();
        if target.starts_with("web::") {
            assert!(target == "web::scope(\"/api/v1\"", "an API route registered other than by a handler: {target}");
            continue;
        }
        let (module, handler) = target.split_once("::").unwrap_or_else(|| panic!("unexpected service {target}"));
        let source = std::fs::read_to_string(api.join(format!("{module}.rs"))).unwrap();
        let found = METHODS.iter().find_map(|method| {
            source.split(&format!("#[{method}(\"")).skip(1).find_map(|chunk| {
                let (path, rest) = chunk.split_once('"').unwrap();
                let fn_line = rest.lines().find(|l| l.contains(" fn "))?;
                (fn_line.contains(&format!(" fn {handler}("))).then(|| (method.to_string(), format!("/api/v1{path}")))
            })
        });
        routes.insert(found.unwrap_or_else(|| panic!("no route attribute found for {module}::{handler}")));
    }
    assert!(routes.len() > 20, "the route scan found too little: {routes:?}");
    routes
}

fn documented_operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                ops.push((method.clone(), path.clone(), op));
            }
        }
    }
    ops
}

async fn fetch_document(app: &TestApp) -> Value {
    let response = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200, "the document is public");
    let headers = response.headers();
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    // The site-wide security headers apply here too.
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_lists_every_api_route_and_nothing_else() {
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> =
        documented_operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
    let registered = registered_routes();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&registered).collect();
    assert!(undocumented.is_empty(), "routes missing from the OpenAPI document: {undocumented:?}");
    assert!(unserved.is_empty(), "documented operations no handler serves: {unserved:?}");
}

#[tokio::test]
async fn every_operation_is_described_and_answers_as_documented() {
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let client = reqwest::Client::new();
    let mut operation_ids = BTreeSet::new();
    for (method, path, op) in documented_operations(&doc) {
        let name = format!("{} {path}", method.to_uppercase());
        assert!(operation_ids.insert(op["operationId"].as_str().unwrap().to_owned()), "{name}: duplicate operationId");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: no summary");
        // Every `{param}` of the path is declared as a required path parameter, and nothing else is.
        let in_template: BTreeSet<&str> =
            path.split('{').skip(1).map(|p| p.split('}').next().unwrap()).collect::<BTreeSet<_>>();
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .inspect(|p| assert_eq!(p["required"], true, "{name}: path parameter not required"))
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(in_template, declared, "{name}: path parameters");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{name}: no success response");
        for (status, response) in responses {
            if !status.starts_with('2') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                    "{name} {status}: error answers are documented with the error body"
                );
            }
        }
        // POST/PUT operations that take a body say what it is.
        if let Some(body) = op.get("requestBody") {
            assert!(body["content"]["application/json"]["schema"].is_object(), "{name}: request body schema");
        }

        // The operation is served: without a token, a protected one is 401 (not the API's 404
        // for unknown routes), and a public one is neither.
        let url = app.url(&path.replace('{', "x").replace('}', ""));
        let request = client.request(method.to_uppercase().parse().unwrap(), url);
        let status = request.send().await.unwrap().status().as_u16();
        if PUBLIC.contains(&(method.as_str(), path.as_str())) {
            assert!(op.get("security").is_none(), "{name}: public, yet documented with security");
            assert!(![401, 404, 405].contains(&status), "{name}: answered {status} without a token");
        } else {
            assert_eq!(op["security"], serde_json::json!([{ "bearer": [] }]), "{name}: bearer token");
            assert!(responses.contains_key("401"), "{name}: 401 not documented");
            assert_eq!(status, 401, "{name}: answered {status} without a token, expected 401");
        }
    }
    assert_eq!(operation_ids.len(), registered_routes().len());
}

/// A documented address asked with a method it does not take answers 405 with `Allow` (it was a
/// 404, as if the address did not exist; schemathesis' `unsupported_method` check found it).
#[tokio::test]
async fn a_method_an_api_address_does_not_take_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    for (method, path, allow) in [
        ("TRACE", "/api/v1/me", "GET"),
        ("DELETE", "/api/v1/conversations", "GET"),
        ("PATCH", "/api/v1/questionnaire", "GET, PUT"),
        ("GET", "/api/v1/conversations/abc/messages", "GET, POST"),
        ("PUT", "/api/v1/tokens", "POST"),
    ] {
        let response = client.request(method.parse().unwrap(), app.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        if method == "GET" {
            assert_eq!(status, 401, "{method} {path} is served");
            continue;
        }
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
    let response = client.get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
