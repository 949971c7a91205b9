//! The extension's configuration: what is stored, how it is validated, how old versions migrate.
//!
//! Storage is untrusted input like any other: [`Config::from_stored`] validates what it reads
//! and never panics; a value it cannot use is reported, and the caller keeps what it had.

use crate::candidate::{shape, Shape};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use url::Url;

/// Version of the stored configuration record. 1 had no per-site settings, region or "all sites".
pub const CONFIG_SCHEMA: u32 = 2;

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
    /// Run on every https site (and loopback), not just the listed ones.
    #[serde(default)]
    pub all_sites: bool,
    /// Per-site switches, by origin; a site without an entry has everything on.
    #[serde(default)]
    pub site_settings: BTreeMap<String, SiteSettings>,
    /// Region (ISO 3166 alpha-2) for numbers written in national form.
    #[serde(default = "default_region")]
    pub region: String,
    /// Area code prefixed to local numbers, for regions that dial them (empty: none).
    #[serde(default)]
    pub area_code: String,
    #[serde(default = "default_timeout")]
    pub liveness_timeout_ms: u32,
}

/// What runs on one site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteSettings {
    #[serde(default = "yes")]
    pub panel: bool,
    #[serde(default = "yes")]
    pub detection: bool,
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            panel: true,
            detection: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_timeout() -> u32 {
    DEFAULT_LIVENESS_TIMEOUT_MS
}

/// The region of a record that names none.
const DEFAULT_REGION: &str = "US";

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
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

/// The `chrome.scripting` / host-permission match pattern for a site origin, without its port:
/// Firefox refuses a match pattern with a port ("not declared in the manifest"), and Chromium's
/// pattern without one covers every port. The bridge still runs only on the exact origin
/// listed (`site_covers`).
pub fn match_pattern(site: &str) -> String {
    let host = site.find("://").map_or(0, |i| i + 3);
    let base = match site.rfind(':') {
        Some(i)
            if i > host
                && i + 1 < site.len()
                && site[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &site[..i]
        }
        _ => site,
    };
    format!("{base}/*")
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

/// The match patterns that "all sites" stands for.
pub const ALL_SITES_PATTERNS: [&str; 4] = [
    "https://*/*",
    "http://localhost/*",
    "http://*.localhost/*",
    "http://127.0.0.1/*",
];

/// Validates a region code against [`crate::regions::REGIONS`].
pub fn parse_region(input: &str) -> Result<String, ConfigError> {
    let code = input.trim().to_ascii_uppercase();
    crate::regions::find(&code)
        .map(|r| r.code.to_owned())
        .ok_or_else(|| {
            field_err(
                "region",
                format!("{input:?} is not a region this extension knows; pick one from the list."),
            )
        })
}

/// Validates an area code: empty, or 1 to 5 digits.
pub fn parse_area_code(input: &str) -> Result<String, ConfigError> {
    let s = input.trim();
    if s.is_empty() || (s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())) {
        Ok(s.to_owned())
    } else {
        Err(field_err(
            "areaCode",
            "An area code is 1 to 5 digits, without the trunk prefix (no leading + or spaces).",
        ))
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
            all_sites: false,
            site_settings: BTreeMap::new(),
            region: default_region(),
            area_code: String::new(),
            liveness_timeout_ms: DEFAULT_LIVENESS_TIMEOUT_MS,
        })
    }

    /// The settings of the site covering `origin`.
    pub fn settings_for(&self, origin: &str) -> SiteSettings {
        self.sites
            .iter()
            .find(|s| site_covers(s, origin))
            .and_then(|s| self.site_settings.get(s))
            .copied()
            .unwrap_or_default()
    }

    /// The host match patterns this configuration needs: its sites and the widget's origin.
    /// Match patterns of the CRM pages: every site, or the configured ones.
    pub fn crm_patterns(&self) -> Vec<String> {
        if self.all_sites {
            ALL_SITES_PATTERNS.iter().map(|s| (*s).to_owned()).collect()
        } else {
            let mut out: Vec<String> = Vec::new();
            for p in self.sites.iter().map(|s| match_pattern(s)) {
                if !out.contains(&p) {
                    out.push(p); // two ports of one host share a pattern
                }
            }
            out
        }
    }

    pub fn host_patterns(&self) -> Vec<String> {
        let mut out = self.crm_patterns();
        if let Some(o) = self.widget_origin() {
            let p = match_pattern(&o);
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// The JSON text stored under `config`.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The origin the bridge trusts: always derived from the URL, never stored separately.
    pub fn widget_origin(&self) -> Option<String> {
        parse_widget_url(&self.widget_url).ok().map(|w| w.origin)
    }

    pub fn covers(&self, origin: &str) -> bool {
        (self.all_sites && all_sites_cover(origin))
            || self.sites.iter().any(|s| site_covers(s, origin))
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
        c.region = parse_region(&c.region)?;
        c.area_code = parse_area_code(&c.area_code)?;
        // Settings of sites no longer listed are dropped; keys are canonical origins.
        let sites = c.sites.clone();
        c.site_settings.retain(|k, _| sites.contains(k));
        Ok(c)
    }
}

/// True for the origins "all sites" covers: any https origin, and http on loopback.
pub fn all_sites_cover(origin: &str) -> bool {
    match origin.split_once("://") {
        Some(("https", _)) => true,
        Some(("http", host)) => is_loopback_host(host.rsplit_once(':').map_or(host, |(h, _)| h)),
        _ => false,
    }
}

/// What the content script needs to know about its own page, read from the stored record
/// without a URL parser (kept out of the content script for its size).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageView {
    pub enabled: bool,
    pub settings: SiteSettings,
    /// How the page's national numbers are read (as stored: the worker checks it).
    pub numbering: Numbering,
}

/// How national numbers are read: the agent's region and area code. The content script stamps
/// it on every [`crate::ext::Scan`], so text read under one setting is matched under that one,
/// whichever of the worker and the page hears of a change first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Numbering {
    pub region: String,
    /// Empty: none.
    pub area_code: String,
}

impl Numbering {
    /// What numbers look like under this setting (see [`crate::candidate`]); an unknown
    /// region gives the loosest shape.
    pub fn shape(&self) -> Shape {
        shape(&self.region, !self.area_code.is_empty())
    }

    /// The same, validated like a saved setting (a known region, an area code of digits).
    pub fn checked(&self) -> Result<Numbering, ConfigError> {
        Ok(Numbering {
            region: parse_region(&self.region)?,
            area_code: parse_area_code(&self.area_code)?,
        })
    }
}

impl PageView {
    pub fn from_stored(v: &Value, origin: &str) -> Result<PageView, ConfigError> {
        let sites = stored_sites(v)?;
        let all = v.get("allSites").and_then(Value::as_bool).unwrap_or(false);
        let site = sites.iter().find(|s| site_covers(s, origin));
        let enabled = site.is_some() || (all && all_sites_cover(origin));
        let settings = site
            .and_then(|s| v.get("siteSettings").and_then(|m| m.get(s.as_str())))
            .and_then(|s| serde_json::from_value::<SiteSettings>(s.clone()).ok())
            .unwrap_or_default();
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::trim);
        Ok(PageView {
            enabled,
            settings,
            numbering: Numbering {
                region: text("region").unwrap_or(DEFAULT_REGION).to_owned(),
                area_code: text("areaCode").unwrap_or_default().to_owned(),
            },
        })
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

/// Schema 0 (no `schema` field) called the URL `ccaasUrl`; it becomes `widgetUrl`. Schema 1 had
/// no `allSites`, `siteSettings`, `region` or `areaCode`: their defaults apply (serde defaults).
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

/// The parts of a widget URL the options page shows and edits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WidgetParts {
    pub origin: String,
    pub dynamics_url: String,
    pub tenant_id: String,
    /// `msdynembedmode`: 3 is the Contact Center widget, 1 Copilot for Service.
    pub embed_mode: String,
    /// `useCustomCTI=1`: the widget loads the custom driver web resource.
    pub custom_cti: bool,
}

/// Splits a widget URL into its parts (`None` if it is not a URL at all).
pub fn widget_parts(input: &str) -> Option<WidgetParts> {
    let url = Url::parse(input.trim()).ok()?;
    let q = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(WidgetParts {
        origin: url.origin().ascii_serialization(),
        dynamics_url: q("dynamicsUrl"),
        tenant_id: q("tenantId"),
        embed_mode: q("msdynembedmode"),
        custom_cti: q("useCustomCTI") == "1",
    })
}

/// Rewrites `input` with `parts`, keeping its path and every other parameter.
pub fn with_parts(input: &str, parts: &WidgetParts) -> Result<String, ConfigError> {
    const F: &str = "widgetUrl";
    let base = if input.trim().is_empty() {
        "https://ccaas-embed-prod.azureedge.net/widget/index.html"
    } else {
        input.trim()
    };
    let mut url = Url::parse(base)
        .map_err(|_| field_err(F, "Fix the widget URL before editing its parts."))?;
    let origin = Url::parse(parts.origin.trim()).map_err(|_| {
        field_err(
            F,
            "The widget origin is not an origin like https://ccaas-embed-prod.azureedge.net.",
        )
    })?;
    url.set_scheme(origin.scheme())
        .map_err(|_| field_err(F, "The widget origin's scheme cannot be used."))?;
    url.set_host(origin.host_str())
        .map_err(|_| field_err(F, "The widget origin's host cannot be used."))?;
    url.set_port(origin.port())
        .map_err(|_| field_err(F, "The widget origin's port cannot be used."))?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            !matches!(
                k.as_ref(),
                "dynamicsUrl" | "tenantId" | "msdynembedmode" | "useCustomCTI"
            )
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        let mut put = |k: &str, v: &str| {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        };
        put("dynamicsUrl", &parts.dynamics_url);
        put("msdynembedmode", &parts.embed_mode);
        put("tenantId", &parts.tenant_id);
        if parts.custom_cti {
            put("useCustomCTI", "1");
        }
        for (k, v) in &kept {
            put(k, v);
        }
    }
    Ok(url.to_string())
}

/// Configuration set by an administrator's policy (`chrome.storage.managed`, schema in
/// `extension/managed_schema.json`); policy wins over what the agent saved, field by field.
/// The fields policy sets; `None` where it is silent. Each is validated like the form; a value
/// that fails is ignored (with a console line) rather than locking the agent out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub widget_url: Option<String>,
    pub sites: Option<Vec<String>>,
    pub all_sites: Option<bool>,
    pub region: Option<String>,
    pub area_code: Option<String>,
}

impl ManagedPolicy {
    /// Reads a policy object; values that fail validation are left out and described in the
    /// returned list of warnings.
    pub fn from_value(v: &Value) -> (ManagedPolicy, Vec<String>) {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let warnings = std::cell::RefCell::new(Vec::new());
        let warn = |what: &str, e: String| {
            warnings
                .borrow_mut()
                .push(format!("policy value {what} ignored: {e}"))
        };
        let policy = ManagedPolicy {
            widget_url: s("widgetUrl").and_then(|u| {
                parse_widget_url(&u)
                    .map(|w| w.url)
                    .map_err(|e| warn("widgetUrl", e.to_string()))
                    .ok()
            }),
            sites: v.get("sites").and_then(Value::as_array).and_then(|list| {
                list.iter()
                    .map(|x| x.as_str().map(parse_site).unwrap_or_else(|| parse_site("")))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| warn("sites", e.to_string()))
                    .ok()
            }),
            all_sites: v.get("allSites").and_then(Value::as_bool),
            region: s("region").and_then(|r| {
                parse_region(&r)
                    .map_err(|e| warn("region", e.to_string()))
                    .ok()
            }),
            area_code: s("areaCode").and_then(|a| {
                parse_area_code(&a)
                    .map_err(|e| warn("areaCode", e.to_string()))
                    .ok()
            }),
        };
        (policy, warnings.into_inner())
    }

    pub fn is_empty(&self) -> bool {
        *self == ManagedPolicy::default()
    }

    /// `config` with every field policy sets replaced by the policy's value.
    pub fn apply(&self, mut config: Config) -> Config {
        if let Some(u) = &self.widget_url {
            config.widget_url = u.clone();
        }
        if let Some(s) = &self.sites {
            config.sites = s.clone();
        }
        if let Some(a) = self.all_sites {
            config.all_sites = a;
        }
        if let Some(r) = &self.region {
            config.region = r.clone();
        }
        if let Some(a) = &self.area_code {
            config.area_code = a.clone();
        }
        config
    }
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
    fn parts_round_trip_and_keep_unknown_parameters() {
        let p = widget_parts(OK).unwrap_or_default();
        assert_eq!(p.origin, "https://ccaas-embed-prod.azureedge.net");
        assert_eq!(
            (p.dynamics_url.as_str(), p.embed_mode.as_str(), p.custom_cti),
            ("https://org.crm.dynamics.com", "3", false)
        );
        let edited = WidgetParts {
            tenant_id: "0000-11".into(),
            custom_cti: true,
            ..p
        };
        let url = with_parts(OK, &edited).unwrap_or_default();
        assert!(
            url.contains("tenantId=0000-11")
                && url.contains("useCustomCTI=1")
                && url.contains("x=1"),
            "{url}"
        );
        assert_eq!(widget_parts(&url), Some(edited.clone()));
        let moved = WidgetParts {
            origin: "http://ccaas.localhost:8130".into(),
            ..edited
        };
        let url = with_parts(&url, &moved).unwrap_or_default();
        assert!(
            url.starts_with("http://ccaas.localhost:8130/widget/index.html?"),
            "{url}"
        );
        assert!(parse_widget_url(&url).is_ok());
    }

    #[test]
    fn policy_overrides_field_by_field() {
        let (p, w) = ManagedPolicy::from_value(
            &json!({"widgetUrl": OK, "sites": ["https://crm.example.com"], "region": "gb", "areaCode": "x"}),
        );
        assert_eq!(p.region.as_deref(), Some("GB"));
        assert_eq!(p.area_code, None);
        assert_eq!(w.len(), 1);
        let local = Config::new(
            "http://ccaas.localhost:1/w?dynamicsUrl=https://o.crm.dynamics.com",
            &["https://a.example.com"],
        );
        let c = p.apply(local.unwrap_or_else(|e| unreachable!("{e}")));
        assert_eq!(
            (c.widget_url.as_str(), c.sites.len(), c.region.as_str()),
            (
                parse_widget_url(OK)
                    .map(|w| w.url)
                    .unwrap_or_default()
                    .as_str(),
                1,
                "GB"
            )
        );
    }

    #[test]
    fn page_view_and_patterns() {
        let v = json!({"schema": 2, "widgetUrl": OK, "sites": ["https://crm.example.com"],
            "siteSettings": {"https://crm.example.com": {"panel": true, "detection": false}}});
        let pv = PageView::from_stored(&v, "https://crm.example.com")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            pv,
            PageView {
                enabled: true,
                settings: SiteSettings {
                    panel: true,
                    detection: false
                },
                numbering: Numbering {
                    region: "US".into(),
                    area_code: String::new()
                },
            }
        );
        let gb = json!({"schema": 2, "widgetUrl": OK, "sites": [], "region": "GB", "areaCode": ""});
        let local = json!({"schema": 2, "widgetUrl": OK, "sites": [], "areaCode": "425"});
        for (v, want) in [(gb, shape("GB", false)), (local, shape("US", true))] {
            let pv = PageView::from_stored(&v, "https://crm.example.com");
            assert_eq!(pv.map(|p| p.numbering.shape()), Ok(want));
        }
        let odd = |region: &str, area_code: &str| Numbering {
            region: region.into(),
            area_code: area_code.into(),
        };
        assert_eq!(odd(" gb", "20").checked(), Ok(odd("GB", "20")));
        assert!(odd("XX", "").checked().is_err());
        assert!(odd("US", "+1 425").checked().is_err());
        assert_eq!(odd("XX", "").shape(), crate::candidate::ANY);
        assert!(!PageView::from_stored(&v, "https://other.example.com").is_ok_and(|p| p.enabled));
        let all = json!({"schema": 2, "widgetUrl": OK, "sites": [], "allSites": true});
        assert!(PageView::from_stored(&all, "https://any.example.org").is_ok_and(|p| p.enabled));
        assert!(!PageView::from_stored(&all, "http://plain.example.org").is_ok_and(|p| p.enabled));
        let c = Config::from_stored(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            c.host_patterns(),
            vec![
                "https://crm.example.com/*",
                "https://ccaas-embed-prod.azureedge.net/*"
            ]
        );
        let ports = json!({"schema": 2, "widgetUrl": OK,
            "sites": ["http://crm.localhost:8130", "http://crm.localhost:8131", "https://*.example.com"]});
        let c = Config::from_stored(&ports).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            c.host_patterns(),
            vec![
                "http://crm.localhost/*",
                "https://*.example.com/*",
                "https://ccaas-embed-prod.azureedge.net/*"
            ]
        );
        assert_eq!(match_pattern("http://[::1]"), "http://[::1]/*");
        assert_eq!(match_pattern("http://[::1]:8080"), "http://[::1]/*");
        assert_eq!(
            match_pattern("https://crm.example.com:8443"),
            "https://crm.example.com/*"
        );
        assert_eq!(parse_area_code("425"), Ok("425".into()));
        assert!(parse_area_code("+1 425").is_err());
        assert_eq!(parse_region("gb"), Ok("GB".into()));
    }

    #[test]
    fn stored_records() {
        let old = json!({"ccaasUrl": OK, "sites": ["https://crm.example.com"]});
        let c = Config::from_stored(&old).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.schema, CONFIG_SCHEMA);
        assert_eq!(c.region, "US");
        assert!(!c.all_sites);
        let v1 = json!({"schema": 1, "widgetUrl": OK, "sites": ["https://crm.example.com"], "livenessTimeoutMs": 5000});
        let c1 = Config::from_stored(&v1).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (
                c1.schema,
                c1.liveness_timeout_ms,
                c1.settings_for("https://crm.example.com")
            ),
            (2, 5000, SiteSettings::default())
        );
        let bad_region = json!({"schema": 2, "widgetUrl": OK, "sites": [], "region": "XX"});
        assert!(Config::from_stored(&bad_region).is_err());
        assert_eq!(
            c.widget_origin().as_deref(),
            Some("https://ccaas-embed-prod.azureedge.net")
        );
        assert!(Config::from_stored(&json!("garbage")).is_err());
        assert!(Config::from_stored(&json!({"schema": 99, "widgetUrl": OK})).is_err());
        let round = Config::from_stored(&serde_json::from_str(&c.to_text()).unwrap_or_default());
        assert_eq!(round, Ok(c));
        assert!(Config::from_stored(
            &json!({"schema": 1, "widgetUrl": "javascript:1", "sites": []})
        )
        .is_err());
    }
}
