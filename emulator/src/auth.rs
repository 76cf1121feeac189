//! Credentials: bearer tokens and legacy X-Auth-Email/X-Auth-Key, with the real error codes.

use std::net::IpAddr;

use hyper::HeaderMap;

use crate::model::{TokenScope, TokenStatus};
use crate::state::{State, Zone};
use crate::util::cidr_contains;
use crate::wire::{ApiError, ErrorItem};

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    Token(TokenScope),
    /// Legacy global API key: every permission on every zone.
    GlobalKey,
}

impl Principal {
    pub fn can_see(&self, zone: &Zone) -> bool {
        match self {
            Principal::GlobalKey => true,
            Principal::Token(scope) => match &scope.zones {
                None => true,
                Some(list) => list.iter().any(|z| {
                    let z = z.trim_end_matches('.');
                    z.eq_ignore_ascii_case(&zone.name) || z == zone.id
                }),
            },
        }
    }

    pub fn can_edit(&self) -> bool {
        match self {
            Principal::GlobalKey => true,
            Principal::Token(scope) => scope.edit,
        }
    }
}

/// What the `Authorization` header holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bearer {
    Missing,
    Malformed,
    Token(String),
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<Result<&'a str, ()>> {
    headers.get(name).map(|v| v.to_str().map_err(|_| ()))
}

fn token_charset_ok(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn token_shape_ok(token: &str) -> bool {
    if let Some(rest) = ["cfut_", "cfat_", "cfk_"]
        .iter()
        .find_map(|p| token.strip_prefix(p))
    {
        return rest.len() >= 40;
    }
    token.len() == 40
}

/// Parses `Authorization: Bearer <token>`. Registered tokens are always well-formed;
/// others must use `[A-Za-z0-9_-]` (and, in strict mode, look like a real token).
pub(crate) fn parse_bearer(state: &State, headers: &HeaderMap) -> Bearer {
    let value = match header_str(headers, "authorization") {
        None => return Bearer::Missing,
        Some(Err(())) => return Bearer::Malformed,
        Some(Ok(v)) => v,
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return Bearer::Malformed;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Malformed;
    }
    if state.tokens.contains_key(token) {
        return Bearer::Token(token.to_owned());
    }
    if !token_charset_ok(token) || (state.config.strict_token_format && !token_shape_ok(token)) {
        return Bearer::Malformed;
    }
    Bearer::Token(token.to_owned())
}

pub(crate) fn malformed_authorization() -> ApiError {
    ApiError::bad_headers(vec![ErrorItem::new(
        6111,
        "Invalid format for Authorization header",
    )])
}

/// Client IP Address Filtering: 403 9109 naming the address seen, when `peer` is outside the
/// token's list.
fn check_client_ip(scope: &TokenScope, peer: IpAddr) -> Result<(), ApiError> {
    match &scope.client_ips {
        Some(list) if !list.iter().any(|c| cidr_contains(c, peer)) => Err(ApiError::new(
            403,
            9109,
            format!(
                "Cannot use the access token from location: {}",
                peer.to_canonical()
            ),
        )),
        _ => Ok(()),
    }
}

/// The token for `…/tokens/verify`: missing → 400/1001, malformed → 400/6003,
/// unknown → 401/1000, outside its client IP filter → 403/9109.
pub(crate) fn verify_token(
    state: &State,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<(String, TokenScope), ApiError> {
    match parse_bearer(state, headers) {
        Bearer::Missing => Err(ApiError::new(400, 1001, "Missing \"Authorization\" header")),
        Bearer::Malformed => Err(malformed_authorization()),
        Bearer::Token(token) => match state.tokens.get(&token) {
            Some(scope) => {
                check_client_ip(scope, peer)?;
                Ok((token, scope.clone()))
            }
            None => Err(invalid_api_token()),
        },
    }
}

pub(crate) fn invalid_api_token() -> ApiError {
    ApiError::new(401, 1000, "Invalid API Token")
}

fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn global_key_ok(key: &str) -> bool {
    if let Some(rest) = key.strip_prefix("cfk_") {
        return rest.len() >= 40 && token_charset_ok(rest);
    }
    (37..=45).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Authenticates a call to any endpoint other than token verify, made from `peer`.
pub(crate) fn authenticate(
    state: &State,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<Principal, ApiError> {
    match parse_bearer(state, headers) {
        Bearer::Malformed => return Err(malformed_authorization()),
        Bearer::Token(token) => {
            return match state.tokens.get(&token) {
                Some(scope) if scope.status == TokenStatus::Active => {
                    check_client_ip(scope, peer)?;
                    Ok(Principal::Token(scope.clone()))
                }
                _ => Err(ApiError::new(403, 9109, "Invalid access token")),
            };
        }
        Bearer::Missing => {}
    }
    let email = header_str(headers, "x-auth-email");
    let key = header_str(headers, "x-auth-key");
    if email.is_none() && key.is_none() {
        return Err(ApiError::new(
            400,
            9106,
            "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
        ));
    }
    let email = email.and_then(Result::ok).unwrap_or("");
    let key = key.and_then(Result::ok).unwrap_or("");
    let mut chain = Vec::new();
    if !email_ok(email) {
        chain.push(ErrorItem::new(
            6102,
            "Invalid format for X-Auth-Email header",
        ));
    }
    if !global_key_ok(key) {
        chain.push(ErrorItem::new(6103, "Invalid format for X-Auth-Key header"));
    }
    if !chain.is_empty() {
        return Err(ApiError::bad_headers(chain));
    }
    if state
        .global_keys
        .iter()
        .any(|(e, k)| e.eq_ignore_ascii_case(email) && k == key)
    {
        Ok(Principal::GlobalKey)
    } else {
        Err(ApiError::new(
            403,
            9103,
            "Unknown X-Auth-Key or X-Auth-Email",
        ))
    }
}

/// The key a request's rate-limit budget is counted under.
pub(crate) fn rate_key(state: &State, headers: &HeaderMap, peer: std::net::IpAddr) -> String {
    // Cloudflare counts per user: the tokens of one owner share a budget.
    if let Some(owner) = presented_token(headers)
        .and_then(|t| state.tokens.get(&t))
        .and_then(|s| s.owner.as_deref())
    {
        return format!("user:{owner}");
    }
    if let Some(Ok(v)) = header_str(headers, "authorization") {
        return format!("authorization:{v}");
    }
    if let Some(Ok(email)) = header_str(headers, "x-auth-email") {
        return format!("email:{}", email.to_ascii_lowercase());
    }
    format!("ip:{peer}")
}

/// The bearer token presented, for the request log.
pub(crate) fn presented_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_parsing() {
        let mut st = State::default();
        st.tokens.insert("good".into(), TokenScope::edit_all());
        assert_eq!(parse_bearer(&st, &headers(&[])), Bearer::Missing);
        assert_eq!(
            parse_bearer(&st, &headers(&[("authorization", "Bearer good")])),
            Bearer::Token("good".into())
        );
        for bad in [
            "Bearer a b",
            "Bearer abc.def",
            "Basic abc",
            "Bearer",
            "Bearer ",
        ] {
            assert_eq!(
                parse_bearer(&st, &headers(&[("authorization", bad)])),
                Bearer::Malformed,
                "{bad}"
            );
        }
        st.config.strict_token_format = true;
        assert_eq!(
            parse_bearer(&st, &headers(&[("authorization", "Bearer abc-def")])),
            Bearer::Malformed
        );
        assert_eq!(
            parse_bearer(&st, &headers(&[("authorization", "Bearer good")])),
            Bearer::Token("good".into()),
            "registered tokens are always well-formed"
        );
    }

    #[test]
    fn the_tokens_of_one_user_share_a_rate_key() {
        let mut st = State::default();
        let owned = |o: &str| TokenScope {
            owner: Some(o.into()),
            ..TokenScope::edit_all()
        };
        st.tokens.insert("t1".into(), owned("alice"));
        st.tokens.insert("t2".into(), owned("alice"));
        st.tokens.insert("t3".into(), TokenScope::edit_all());
        let key = |t: &str| {
            rate_key(
                &st,
                &headers(&[("authorization", &format!("Bearer {t}"))]),
                LOCAL,
            )
        };
        assert_eq!(key("t1"), key("t2"));
        assert_eq!(key("t1"), "user:alice");
        assert_ne!(key("t3"), key("t1"));
        assert_ne!(key("t3"), key("unknown"));
    }

    #[test]
    fn legacy_headers() {
        let mut st = State::default();
        let key = "0123456789abcdef0123456789abcdef01234";
        st.global_keys.push(("me@example.com".into(), key.into()));
        let ok = authenticate(
            &st,
            &headers(&[("x-auth-email", "me@example.com"), ("x-auth-key", key)]),
            LOCAL,
        );
        assert!(matches!(ok, Ok(Principal::GlobalKey)));
        let bad = authenticate(
            &st,
            &headers(&[("x-auth-email", "nope"), ("x-auth-key", "xyz")]),
            LOCAL,
        )
        .unwrap_err();
        assert_eq!(bad.code(), 6003);
        assert_eq!(bad.errors[0].error_chain.len(), 2);
        let unknown = authenticate(
            &st,
            &headers(&[("x-auth-email", "you@example.com"), ("x-auth-key", key)]),
            LOCAL,
        )
        .unwrap_err();
        assert_eq!((unknown.status, unknown.code()), (403, 9103));
        let none = authenticate(&st, &headers(&[]), LOCAL).unwrap_err();
        assert_eq!((none.status, none.code()), (400, 9106));
    }

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn client_ip_filtering() {
        let mut st = State::default();
        st.tokens.insert(
            "filtered".into(),
            TokenScope::edit_all().from_ips(&["192.0.2.0/24", "2001:db8::/32"]),
        );
        let bearer = headers(&[("authorization", "Bearer filtered")]);
        let refused = authenticate(&st, &bearer, LOCAL).unwrap_err();
        assert_eq!((refused.status, refused.code()), (403, 9109));
        assert_eq!(
            refused.errors[0].message,
            "Cannot use the access token from location: 127.0.0.1"
        );
        let inside: IpAddr = "192.0.2.9".parse().unwrap();
        assert!(authenticate(&st, &bearer, inside).is_ok());
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let refused = verify_token(&st, &bearer, mapped).unwrap_err();
        assert_eq!(
            refused.errors[0].message,
            "Cannot use the access token from location: 203.0.113.7"
        );
        assert!(verify_token(&st, &bearer, "2001:db8::1".parse().unwrap()).is_ok());
    }
}
