//! What the status server answers for each path: the page, the API's JSON
//! documents, the metrics; anything else is 404, anything but GET and HEAD
//! 405. Pure over the request and [`Sources`].

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::api::Sources;
use crate::mac::MacAddr;

/// The page, with its script and styles inline (nothing from elsewhere).
const PAGE: &str = include_str!("page.html");

/// Prometheus' text format.
const METRICS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The answer to `req`.
pub fn answer<B>(sources: &Sources, req: &Request<B>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    let path = req.uri().path();
    let (body, kind) = match path {
        "/" | "/index.html" => (PAGE.to_string(), "text/html; charset=utf-8"),
        "/api/status" => (sources.status_json(), "application/json"),
        "/api/clients" => (sources.clients_json(), "application/json"),
        "/api/images" => (sources.images_json(), "application/json"),
        "/metrics" => (sources.metrics_text(), METRICS_TYPE),
        _ => match client(sources, path) {
            Some(found) => found,
            None => return text(StatusCode::NOT_FOUND, "not found\n"),
        },
    };
    respond(Bytes::from(body), kind)
}

/// `body` as `kind`, never to be cached by the browser.
pub fn respond(body: Bytes, kind: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A request that changes something (`POST`/`DELETE /api/next-boot/<MAC>`),
/// with its body.
pub fn change<B>(sources: &Sources, req: &Request<B>, body: &[u8]) -> Response<Full<Bytes>> {
    let Some(mac) = req.uri().path().strip_prefix("/api/next-boot/") else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let Ok(mac) = mac.parse::<MacAddr>() else {
        return text(
            StatusCode::BAD_REQUEST,
            format!("{mac:?} is not a MAC address\n"),
        );
    };
    let Some(control) = &sources.control else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "no state directory: nothing can be changed\n",
        );
    };
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !control.allows(auth) {
        let mut refused = text(
            StatusCode::UNAUTHORIZED,
            format!(
                "needs `Authorization: Bearer <token>`, the token in {}\n",
                control.state_dir.join(super::control::TOKEN_FILE).display()
            ),
        );
        refused
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused;
    }
    let done = match *req.method() {
        Method::DELETE => control.clear(mac),
        _ => control.set(mac, body),
    };
    match done {
        Ok(said) => text(StatusCode::OK, said),
        Err(super::control::Refusal(code, why)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            text(status, format!("{why}\n"))
        }
    }
}

/// `/api/clients/<MAC>`: the client's record, when it is known.
fn client(sources: &Sources, path: &str) -> Option<(String, &'static str)> {
    let mac: MacAddr = path.strip_prefix("/api/clients/")?.parse().ok()?;
    Some((sources.client_json(mac)?, "application/json"))
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let plain = HeaderValue::from_static("text/plain; charset=utf-8");
    response.headers_mut().insert(header::CONTENT_TYPE, plain);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::view::LeaseView;
    use crate::events::Events;

    fn sources() -> Sources {
        Sources {
            events: Events::default(),
            leases: LeaseView::default(),
            pools: vec![("10.0.0.100".parse().unwrap(), "10.0.0.199".parse().unwrap())],
            started: std::time::SystemTime::now(),
            control: None,
        }
    }

    fn get(path: &str) -> Response<Full<Bytes>> {
        let req = Request::get(path).body(()).unwrap();
        answer(&sources(), &req)
    }

    #[test]
    fn each_path_gets_its_document() {
        assert_eq!(get("/").status(), StatusCode::OK);
        let status = get("/api/status");
        assert_eq!(status.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            get("/metrics").headers()[header::CONTENT_TYPE],
            METRICS_TYPE
        );
        assert_eq!(get("/api/clients").status(), StatusCode::OK);
        assert_eq!(
            get("/api/clients/52:54:00:00:00:01").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(get("/api/clients/nonsense").status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/../etc/passwd").status(), StatusCode::NOT_FOUND);
        let post = Request::post("/api/status").body(()).unwrap();
        assert_eq!(
            answer(&sources(), &post).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn pools_count_their_size_and_nothing_leased_yet() {
        let pools = sources().pools();
        assert_eq!(serde_json::to_value(&pools).unwrap()[0]["size"], 100);
        assert_eq!(serde_json::to_value(&pools).unwrap()[0]["leased"], 0);
    }
}
