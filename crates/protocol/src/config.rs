//! The extension's configuration: what is stored, how it is validated, how old versions migrate.
//!
//! Storage is untrusted input like any other: [`Config::from_stored`] validates what it reads
//! and never panics; a value it cannot use is reported, and the caller keeps what it had.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use url::Url;

/// Version of the stored configuration record.
pub const CONFIG_SCHEMA: u32 = 1;

/// How long the panel waits for proof of life from the widget before showing an error.
pub const DEFAULT_LIVENESS_TIMEOUT_MS: u32 = 15_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub schema: u32,
    /// The full widget URL, as the Contact Center admin center shows it.
    pub widget_url: String,
    /// Origins of the CRM sites the extension runs on, e.g. `https://crm.example.com`.
    pub sites: Vec<String>,
    #[serde(default = "default_timeout")]
    pub liveness_timeout_ms: u32,
}

fn default_timeout() -> u32 {
    DEFAULT_LIVENESS_TIMEOUT_MS
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The field the error belongs to, and what to do about it.
    Field {
        field: &'static str,
        message: String,
    },
    /// The stored record is unusable as a whole.
    Stored(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Field { field, message } => write!(f, "{field}: {message}"),
            ConfigError::Stored(m) => write!(f, "stored configuration: {m}"),
        }
    }
}

fn field_err(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        field,
        message: message.into(),
    }
}

/// Longest URL accepted in any field.
pub const MAX_URL_CHARS: usize = 2048;

/// True for hosts where plain `http` is allowed (local testing only).
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1" || host == "[::1]"
}

/// A validated widget URL and the origin the bridge trusts for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetUrl {
    pub url: String,
    pub origin: String,
}

/// Validates a widget URL: `https` (or `http` on loopback), with an `https` `dynamicsUrl`.
pub fn parse_widget_url(input: &str) -> Result<WidgetUrl, ConfigError> {
    const F: &str = "widgetUrl";
    let s = input.trim();
    if s.is_empty() {
        return Err(field_err(
            F,
            "Enter the widget URL from the Contact Center admin center.",
        ));
    }
    if s.chars().count() > MAX_URL_CHARS {
        return Err(field_err(
            F,
            format!(
                "The URL is longer than {MAX_URL_CHARS} characters; paste only the widget URL."
            ),
        ));
    }
    let url = Url::parse(s).map_err(|_| {
        field_err(F, "This is not a URL. It should look like https://<ccaas-domain>/widget/index.html?dynamicsUrl=...")
    })?;
    let host = url.host_str().unwrap_or_default().to_owned();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err(field_err(
                F,
                "Use https: plain http is allowed only on localhost, for testing.",
            ))
        }
        other => {
            return Err(field_err(
                F,
                format!("A {other}: URL cannot host the widget; use an https URL."),
            ))
        }
    }
    if host.is_empty() {
        return Err(field_err(F, "The URL has no host."));
    }
    let dynamics = url
        .query_pairs()
        .find(|(k, _)| k == "dynamicsUrl")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            field_err(
                F,
                "The URL has no dynamicsUrl parameter; copy the whole URL from the admin center.",
            )
        })?;
    match Url::parse(&dynamics) {
        Ok(d) if d.scheme() == "https" && d.host_str().is_some() => {}
        _ => {
            return Err(field_err(
                F,
                "dynamicsUrl must be an https URL of your Dynamics organisation.",
            ))
        }
    }
    Ok(WidgetUrl {
        origin: url.origin().ascii_serialization(),
        url: url.to_string(),
    })
}

/// Validates a CRM site and returns its canonical origin (`scheme://host[:port]`).
/// `*.` before the host allows its subdomains.
pub fn parse_site(input: &str) -> Result<String, ConfigError> {
    const F: &str = "sites";
    let s = input.trim().trim_end_matches('/');
    let (wild, probe) = match s.split_once("://*.") {
        Some((scheme, rest)) => (true, format!("{scheme}://{rest}")),
        None => (false, s.to_owned()),
    };
    let url = Url::parse(&probe).map_err(|_| {
        field_err(
            F,
            format!("{s:?} is not a site; write it like https://crm.example.com"),
        )
    })?;
    let host = url.host_str().unwrap_or_default().to_owned();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        _ => {
            return Err(field_err(
                F,
                format!("{s:?}: sites must use https (http only on localhost)."),
            ))
        }
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(field_err(
            F,
            format!("{s:?}: give only the site's origin, without a path."),
        ));
    }
    let origin = url.origin().ascii_serialization();
    Ok(if wild {
        origin.replacen("://", "://*.", 1)
    } else {
        origin
    })
}

/// The `chrome.scripting` / host-permission match pattern for a site origin.
pub fn match_pattern(site: &str) -> String {
    format!("{site}/*")
}

/// True when `origin` (of a page) is covered by `site`.
pub fn site_covers(site: &str, origin: &str) -> bool {
    match site.split_once("://*.") {
        Some((scheme, rest)) => origin
            .strip_prefix(scheme)
            .and_then(|o| o.strip_prefix("://"))
            .is_some_and(|host| host == rest || host.ends_with(&format!(".{rest}"))),
        None => site == origin,
    }
}

impl Config {
    pub fn new(widget_url: &str, sites: &[&str]) -> Result<Config, ConfigError> {
        let w = parse_widget_url(widget_url)?;
        let sites = sites
            .iter()
            .map(|s| parse_site(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            schema: CONFIG_SCHEMA,
            widget_url: w.url,
            sites,
            liveness_timeout_ms: DEFAULT_LIVENESS_TIMEOUT_MS,
        })
    }

    /// The origin the bridge trusts: always derived from the URL, never stored separately.
    pub fn widget_origin(&self) -> Option<String> {
        parse_widget_url(&self.widget_url).ok().map(|w| w.origin)
    }

    pub fn covers(&self, origin: &str) -> bool {
        self.sites.iter().any(|s| site_covers(s, origin))
    }

    /// Reads a stored record: validates every field, migrates older schemas.
    pub fn from_stored(v: &Value) -> Result<Config, ConfigError> {
        crate::json::check_value(v, 0).map_err(|e| ConfigError::Stored(e.to_string()))?;
        let schema = v.get("schema").and_then(Value::as_u64).unwrap_or(0);
        if schema > u64::from(CONFIG_SCHEMA) {
            return Err(ConfigError::Stored(format!(
                "schema {schema} is newer than this extension understands"
            )));
        }
        let mut c: Config = serde_json::from_value(migrate(v.clone()))
            .map_err(|e| ConfigError::Stored(e.to_string()))?;
        c.schema = CONFIG_SCHEMA;
        parse_widget_url(&c.widget_url)?;
        c.sites = c
            .sites
            .iter()
            .map(|s| parse_site(s))
            .collect::<Result<_, _>>()?;
        c.liveness_timeout_ms = c.liveness_timeout_ms.clamp(1_000, 120_000);
        Ok(c)
    }
}

/// The enabled sites out of a stored record, for the content script. Checked without a URL
/// parser, which is kept out of the content script for its size: every entry must already be a
/// canonical origin, as [`parse_site`] wrote it when the record was saved.
pub fn stored_sites(v: &Value) -> Result<Vec<String>, ConfigError> {
    crate::json::check_value(v, 0).map_err(|e| ConfigError::Stored(e.to_string()))?;
    let migrated = migrate(v.clone());
    let list = migrated
        .get("sites")
        .and_then(Value::as_array)
        .ok_or_else(|| ConfigError::Stored("`sites` is not a list".into()))?;
    list.iter()
        .map(|s| match s.as_str() {
            Some(s) if is_canonical_origin(s) => Ok(s.to_owned()),
            _ => Err(ConfigError::Stored(format!("{s} is not a site origin"))),
        })
        .collect()
}

/// `https://host[:port]`, `https://*.host`, or `http://` on a loopback host; lower-case ASCII.
pub fn is_canonical_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let rest = rest.strip_prefix("*.").unwrap_or(rest);
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !host.starts_with('.')
        && !host.ends_with('.');
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let scheme_ok = scheme == "https" || (scheme == "http" && is_loopback_host(host));
    host_ok && port_ok && scheme_ok
}

/// Schema 0 (no `schema` field) called the URL `ccaasUrl`; it becomes `widgetUrl`.
fn migrate(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        if !obj.contains_key("widgetUrl") {
            if let Some(u) = obj.remove("ccaasUrl") {
                obj.insert("widgetUrl".into(), u);
            }
        }
        obj.entry("sites").or_insert_with(|| Value::Array(vec![]));
        obj.insert("schema".into(), CONFIG_SCHEMA.into());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OK: &str = "https://ccaas-embed-prod.azureedge.net/widget/index.html?dynamicsUrl=https://org.crm.dynamics.com&msdynembedmode=3&x=1";

    #[test]
    fn widget_urls() {
        let w = parse_widget_url(OK).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(w.origin, "https://ccaas-embed-prod.azureedge.net");
        assert!(w.url.contains("x=1"));
        assert!(parse_widget_url(
            "http://ccaas.localhost:8130/widget/index.html?dynamicsUrl=https://o.crm.dynamics.com"
        )
        .is_ok());
        for bad in [
            "http://evil.example/widget?dynamicsUrl=https://o.crm.dynamics.com",
            "not a url",
            "https://ccaas-embed-prod.azureedge.net/widget/index.html",
            "javascript:alert(1)",
            "https://x.example/?dynamicsUrl=http://o.crm.dynamics.com",
        ] {
            assert!(parse_widget_url(bad).is_err(), "{bad}");
        }
        assert!(parse_widget_url(&"a".repeat(10_000)).is_err());
    }

    #[test]
    fn sites() {
        assert_eq!(
            parse_site("https://crm.example.com/"),
            Ok("https://crm.example.com".into())
        );
        assert_eq!(
            parse_site("http://crm.localhost:8130"),
            Ok("http://crm.localhost:8130".into())
        );
        assert_eq!(
            parse_site("https://*.example.com"),
            Ok("https://*.example.com".into())
        );
        assert!(parse_site("http://crm.example.com").is_err());
        assert!(parse_site("https://crm.example.com/app").is_err());
        assert!(site_covers(
            "https://*.example.com",
            "https://a.b.example.com"
        ));
        assert!(!site_covers(
            "https://*.example.com",
            "https://example.com.evil"
        ));
        assert!(!site_covers(
            "http://crm.localhost:1",
            "http://crm.localhost:2"
        ));
    }

    #[test]
    fn stored_records() {
        let old = json!({"ccaasUrl": OK, "sites": ["https://crm.example.com"]});
        let c = Config::from_stored(&old).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.schema, CONFIG_SCHEMA);
        assert_eq!(
            c.widget_origin().as_deref(),
            Some("https://ccaas-embed-prod.azureedge.net")
        );
        assert!(Config::from_stored(&json!("garbage")).is_err());
        assert!(Config::from_stored(&json!({"schema": 99, "widgetUrl": OK})).is_err());
        assert!(Config::from_stored(
            &json!({"schema": 1, "widgetUrl": "javascript:1", "sites": []})
        )
        .is_err());
    }
}
