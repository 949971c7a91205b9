//! Who may talk to the driver: the allowlist of parent origins, where it comes from, and which
//! origin the driver posts to. Pure Rust, no web dependency, so it is tested natively.
//!
//! Sources, all added together:
//! - the widget URL's query parameter `ccaasBridgeOrigins` (comma-separated origins), which the
//!   extension's options keep when they rewrite the URL;
//! - the origin of the widget URL's `dynamicsUrl` (the Dynamics org that frames the widget in
//!   Microsoft's own setup);
//! - `allowedOrigins` in the settings block at the top of the built file
//!   (`dist/ccaas-cti-driver.js`), for an administrator who edits the file before uploading it.
//!
//! An entry is an origin (`https://crm.contoso.com`, `chrome-extension://<id>`), or
//! `https://*.contoso.com` for every subdomain. `http` only for `localhost`, `*.localhost` and
//! `127.0.0.1`; `*` alone is refused: the driver never trusts, nor posts to, any origin.

/// The widget URL's query parameter holding extra allowed origins.
pub const ORIGINS_PARAM: &str = "ccaasBridgeOrigins";

const SCHEMES: [&str; 5] = [
    "https",
    "http",
    "chrome-extension",
    "moz-extension",
    "safari-web-extension",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    /// A serialised origin, exactly as `MessageEvent.origin` gives it.
    Exact(String),
    /// `scheme://*.suffix[:port]`: any host strictly below `suffix`.
    Subdomains {
        scheme: String,
        suffix: String,
        port: Option<u16>,
    },
}

/// The origins the driver accepts messages from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist {
    entries: Vec<Entry>,
}

impl Allowlist {
    /// Builds the list from its three sources; returns it with the entries it refused, each with
    /// the reason, so that the driver can say why an origin the admin meant is missing.
    pub fn from_sources(
        origins_param: Option<&str>,
        dynamics_url: Option<&str>,
        settings: &[String],
    ) -> (Allowlist, Vec<String>) {
        let mut list = Allowlist::default();
        let mut refused = Vec::new();
        let mut raw_entries: Vec<String> = origins_param
            .unwrap_or("")
            .split(',')
            .filter(|r| !r.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(url) = dynamics_url.filter(|u| !u.trim().is_empty()) {
            match origin_of_url(url) {
                Some(o) => raw_entries.push(o),
                None => refused.push(format!("dynamicsUrl {url:?}: not an absolute URL")),
            }
        }
        raw_entries.extend(settings.iter().cloned());
        for raw in raw_entries {
            match parse_entry(&raw) {
                Ok(e) if !list.entries.contains(&e) => list.entries.push(e),
                Ok(_) => {}
                Err(why) => refused.push(format!("{raw:?}: {why}")),
            }
        }
        (list, refused)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when a message with this `event.origin` may be acted on.
    pub fn allows(&self, origin: &str) -> bool {
        // `MessageEvent.origin` is already serialised (lower case, default port dropped); an
        // opaque origin ("null") parses as nothing and matches nothing.
        let Ok(Entry::Exact(origin)) = parse_entry(origin) else {
            return false;
        };
        self.entries.iter().any(|e| match e {
            Entry::Exact(o) => *o == origin,
            Entry::Subdomains {
                scheme,
                suffix,
                port,
            } => split_origin(&origin).is_some_and(|(s, host, p)| {
                s == scheme
                    && p == *port
                    && host.len() > suffix.len() + 1
                    && host.ends_with(suffix.as_str())
                    && host[..host.len() - suffix.len()].ends_with('.')
            }),
        })
    }

    /// The exact origins on the list (a wildcard cannot be a `postMessage` target).
    pub fn exact_origins(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Exact(o) => Some(o.clone()),
                Entry::Subdomains { .. } => None,
            })
            .collect()
    }

    /// Every entry as written back (for the driver's stats and log line).
    pub fn describe(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::Exact(o) => o.clone(),
                Entry::Subdomains {
                    scheme,
                    suffix,
                    port,
                } => match port {
                    Some(p) => format!("{scheme}://*.{suffix}:{p}"),
                    None => format!("{scheme}://*.{suffix}"),
                },
            })
            .collect()
    }

    /// Where the driver's own messages go. `parent_origin` is the parent's origin when the
    /// browser tells it (`location.ancestorOrigins`, Chromium and Safari): posted there only if
    /// allowed, and nowhere otherwise. Without it (Firefox), the origin of the last accepted
    /// message from the parent, else every exact entry: `postMessage` delivers to at most the
    /// one that is the parent's.
    pub fn targets(&self, parent_origin: Option<&str>, learned: Option<&str>) -> Vec<String> {
        if let Some(p) = parent_origin {
            return if self.allows(p) {
                vec![p.to_owned()]
            } else {
                vec![]
            };
        }
        if let Some(l) = learned.filter(|l| self.allows(l)) {
            return vec![l.to_owned()];
        }
        self.exact_origins()
    }
}

/// The origin of an absolute URL (`https://org.crm.dynamics.com/main.aspx` → its origin).
pub fn origin_of_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..end]);
    match parse_entry(&origin) {
        Ok(Entry::Exact(o)) => Some(o),
        _ => None,
    }
}

/// `scheme://host[:port]` → its parts (the input is a normalised exact origin).
fn split_origin(origin: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, authority) = origin.split_once("://")?;
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((scheme, host, port.parse().ok())),
        None => Some((scheme, authority, None)),
    }
}

fn parse_entry(raw: &str) -> Result<Entry, &'static str> {
    let s = raw.trim().to_ascii_lowercase();
    let s = s.strip_suffix('/').unwrap_or(&s);
    if s == "*" || s == "null" {
        return Err("only named origins can be trusted");
    }
    let (scheme, authority) = s.split_once("://").ok_or("not an origin (scheme://host)")?;
    if !SCHEMES.contains(&scheme) {
        return Err("unsupported scheme");
    }
    if authority.contains(['/', '?', '#', '@', '\\']) {
        return Err("an origin has no path, query or user");
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => {
            let port: u16 = p.parse().map_err(|_| "bad port")?;
            (h, Some(port))
        }
        None => (authority, None),
    };
    let port = match (scheme, port) {
        ("https", Some(443)) | ("http", Some(80)) => None,
        (_, p) => p,
    };
    let (wildcard, host) = match host.strip_prefix("*.") {
        Some(h) => (true, h),
        None => (false, host),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    if host.is_empty() || !host.split('.').all(label_ok) {
        return Err("bad host");
    }
    if scheme == "http" {
        let local = host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1";
        if !local {
            return Err("http only for localhost (use https)");
        }
    }
    if wildcard {
        if !matches!(scheme, "https" | "http") || !host.contains('.') {
            return Err("a wildcard needs https and a domain with a dot (https://*.example.com)");
        }
        return Ok(Entry::Subdomains {
            scheme: scheme.to_owned(),
            suffix: host.to_owned(),
            port,
        });
    }
    let origin = match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    };
    Ok(Entry::Exact(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXT: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";

    fn list(param: &str, dynamics: Option<&str>, settings: &[&str]) -> Allowlist {
        let settings: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
        Allowlist::from_sources(Some(param), dynamics, &settings).0
    }

    #[test]
    fn collects_all_three_sources() {
        let l = list(
            &format!("{EXT}, https://crm.contoso.com/"),
            Some("https://org.crm.dynamics.com/main.aspx?appid=1"),
            &["https://*.contoso-support.com"],
        );
        assert!(l.allows(EXT));
        assert!(l.allows("https://crm.contoso.com"));
        assert!(l.allows("https://org.crm.dynamics.com"));
        assert!(l.allows("https://eu.contoso-support.com"));
        assert!(l.allows("https://a.b.contoso-support.com"));
        assert!(!l.allows("https://contoso-support.com"));
        assert!(!l.allows("https://evilcontoso-support.com"));
        assert!(!l.allows("http://eu.contoso-support.com"));
        assert!(!l.allows("https://crm.contoso.com:8443"));
        assert!(!l.allows("chrome-extension://someoneelse"));
        assert!(!l.allows("null"));
        assert!(!l.allows(""));
        assert_eq!(
            l.exact_origins(),
            vec![
                EXT.to_owned(),
                "https://crm.contoso.com".into(),
                "https://org.crm.dynamics.com".into()
            ]
        );
    }

    #[test]
    fn normalises_case_and_default_ports() {
        let l = list(
            "HTTPS://CRM.Contoso.com:443,http://crm.localhost:8130",
            None,
            &[],
        );
        assert!(l.allows("https://crm.contoso.com"));
        assert!(l.allows("http://crm.localhost:8130"));
        assert!(!l.allows("http://crm.localhost:8131"));
    }

    #[test]
    fn refuses_what_would_trust_too_much() {
        let settings: Vec<String> = [
            "*",
            "null",
            "http://crm.contoso.com",
            "https://crm.contoso.com/path",
            "https://user@crm.contoso.com",
            "https://*.com",
            "chrome-extension://*.abc",
            "javascript://x",
            "https://crm.contoso.com:99999",
            "crm.contoso.com",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (l, refused) = Allowlist::from_sources(None, Some("not a url"), &settings);
        assert!(l.is_empty(), "{:?}", l.describe());
        assert_eq!(refused.len(), settings.len() + 1);
        assert!(!l.allows("https://crm.contoso.com"));
        assert!(l.targets(None, None).is_empty());
    }

    #[test]
    fn posts_only_to_the_parent_when_it_is_allowed() {
        let l = list(&format!("{EXT},https://crm.contoso.com"), None, &[]);
        assert_eq!(l.targets(Some(EXT), None), vec![EXT.to_owned()]);
        assert!(l.targets(Some("https://evil.example"), None).is_empty());
        // Without ancestorOrigins: what the parent used last, else every exact entry.
        assert_eq!(
            l.targets(None, Some("https://crm.contoso.com")),
            vec!["https://crm.contoso.com".to_owned()]
        );
        assert_eq!(l.targets(None, Some("https://evil.example")).len(), 2);
        assert_eq!(l.targets(None, None).len(), 2);
    }

    #[test]
    fn origin_of_a_url() {
        assert_eq!(
            origin_of_url("https://org.crm.dynamics.com/main.aspx?x=1#y").as_deref(),
            Some("https://org.crm.dynamics.com")
        );
        assert_eq!(
            origin_of_url("https://Org.crm.dynamics.com:443").as_deref(),
            Some("https://org.crm.dynamics.com")
        );
        assert_eq!(origin_of_url("/relative"), None);
        assert_eq!(origin_of_url("ftp://x.example"), None);
    }
}
