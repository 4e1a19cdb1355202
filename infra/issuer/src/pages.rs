//! The sign-in and error pages: server-rendered HTML, no script, a same-origin stylesheet.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::{AuthParams, Config};

pub(crate) const CSS: &str = include_str!("../assets/issuer.css");

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML response with the security headers. `form_target`: the origin the sign-in form's
/// redirect goes to (CSP `form-action` also covers the redirect after the POST).
pub(crate) fn html(status: StatusCode, body: String, form_target: Option<String>) -> Response {
    let form_action = match form_target {
        Some(o) if o != "null" => format!("'self' {o}"),
        _ => "'self'".to_string(),
    };
    let csp =
        format!("default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'");
    let mut resp = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn page(title: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/assets/issuer.css\">\n</head>\n\
         <body>\n<main>\n{main}</main>\n</body>\n</html>\n",
        title = esc(title)
    )
}

pub(crate) fn error_page(message: &str) -> String {
    page(
        "Sign-in error · Invoice Bridge (local)",
        &format!("<h1>Sign-in error</h1>\n<p class=\"error\" role=\"alert\">{}</p>\n", esc(message)),
    )
}

/// The sign-in form (the OAuth parameters as hidden fields) and the test users by company.
pub(crate) fn sign_in(cfg: &Config, p: &AuthParams, username: &str, error: Option<&str>) -> String {
    let mut m = String::new();
    m.push_str("<h1>Sign in to Invoice Bridge</h1>\n");
    m.push_str(
        "<p class=\"note\">Local test sign-in: the stand-in for the Cognito hosted sign-in page. \
         Not for production.</p>\n",
    );
    if let Some(e) = error {
        let _ = writeln!(m, "<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>", esc(e));
    }
    let described = if error.is_some() { " aria-describedby=\"signin-error\"" } else { "" };
    let _ = writeln!(m, "<form method=\"post\" action=\"/oauth2/authorize\" class=\"signin\">");
    for (name, value) in [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("scope", &p.scope),
        ("nonce", &p.nonce),
    ] {
        if let Some(v) = value {
            let _ = writeln!(m, "<input type=\"hidden\" name=\"{name}\" value=\"{}\">", esc(v));
        }
    }
    let _ = writeln!(
        m,
        "<div class=\"field\"><label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" \
         spellcheck=\"false\" required value=\"{}\"{described}></div>",
        esc(username)
    );
    let _ = writeln!(
        m,
        "<div class=\"field\"><label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{described}></div>"
    );
    m.push_str("<button type=\"submit\">Sign in</button>\n</form>\n");

    let mut by_company: BTreeMap<&str, Vec<&crate::User>> = BTreeMap::new();
    for u in &cfg.users {
        by_company.entry(u.company.as_str()).or_default().push(u);
    }
    m.push_str("<section aria-labelledby=\"users-heading\">\n<h2 id=\"users-heading\">Test users</h2>\n");
    for (company, users) in by_company {
        let _ = writeln!(m, "<h3>{}</h3>", esc(company));
        let _ = writeln!(m, "<table>\n<caption>Test users of {}</caption>", esc(company));
        m.push_str("<thead><tr><th scope=\"col\">Username</th><th scope=\"col\">Email</th><th scope=\"col\">Role</th>");
        if cfg.show_passwords {
            m.push_str("<th scope=\"col\">Password</th>");
        }
        m.push_str("</tr></thead>\n<tbody>\n");
        for u in users {
            let _ = write!(m, "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td>", esc(&u.username), esc(&u.email), u.role.as_str());
            if cfg.show_passwords {
                let _ = write!(m, "<td><code>{}</code></td>", esc(&u.password));
            }
            m.push_str("</tr>\n");
        }
        m.push_str("</tbody>\n</table>\n");
    }
    m.push_str("</section>\n");
    page("Sign in · Invoice Bridge (local)", &m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
