//! The phone-number matcher for every tab: page text comes in as [`Scan`] batches over the
//! content script's port and goes back as [`Hit`]s. It runs here, not in the content script,
//! because Google's matcher and its metadata weigh over a megabyte of wasm and take a few
//! hundred milliseconds to warm up: paid once per worker, not once per page load.

use crate::{debug, load_config};
use phone::Options;
use protocol::config::{Config, Numbering};
use protocol::ext::{Hit, LinkHit, Scan};
use protocol::E164;
use std::cell::RefCell;

thread_local! {
    /// The region and area code from the configuration, read once per worker (and again after
    /// a configuration change, see [`forget_options`]).
    static OPTIONS: RefCell<Option<Options>> = const { RefCell::new(None) };
}

pub fn options_from(config: Option<&Config>) -> Options {
    match config {
        Some(c) => Options {
            region: c.region.clone(),
            area_code: Some(c.area_code.clone()).filter(|a| !a.is_empty()),
        },
        None => Options::region("US"),
    }
}

async fn options() -> Options {
    if let Some(o) = OPTIONS.with(|o| o.borrow().clone()) {
        return o;
    }
    let o = options_from(load_config().await.as_ref());
    OPTIONS.with(|slot| *slot.borrow_mut() = Some(o.clone()));
    o
}

/// The matcher's options for a batch: the region and area code the page read it under (the
/// page may hear of a change before this worker does, or after). One this extension does not
/// know is refused, and the batch is matched under the configured ones.
async fn options_for(n: &Numbering) -> Options {
    match n.checked() {
        Ok(n) => Options {
            region: n.region,
            area_code: Some(n.area_code).filter(|a| !a.is_empty()),
        },
        Err(e) => {
            debug(&format!(
                "a scan's numbering refused ({e}): the configured one is used"
            ));
            options().await
        }
    }
}

/// Called when the configuration changes: the next scan reads it again.
pub fn forget_options() {
    OPTIONS.with(|o| *o.borrow_mut() = None);
}

thread_local! {
    static WARM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs the matcher once on a tiny text, so that its one-time set-up (metadata and regular
/// expressions) is done before the first page's text arrives. Called when a CRM page's content
/// script says hello; later calls do nothing.
pub fn warm_up_once() {
    if WARM.with(|w| w.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        let o = options().await;
        let _ = phone::find_numbers("+1 425 555 0100", &o);
    });
}

/// Finds the numbers of one batch. Matches whose E.164 form our own validator refuses are left
/// out rather than sent (the content script would drop them anyway).
pub async fn run(scan: &Scan) -> (Vec<Hit>, Vec<LinkHit>) {
    let o = options_for(&scan.numbering).await;
    let hits = find_in_texts(&scan.texts, &o);
    let links = scan
        .links
        .iter()
        .enumerate()
        .filter_map(|(i, target)| {
            let number = link_number(target, &o)?;
            Some(LinkHit {
                link: u32::try_from(i).ok()?,
                label: label(&number),
                number,
            })
        })
        .collect();
    (hits, links)
}

pub fn find_in_texts(texts: &[String], o: &Options) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let Ok(index) = u32::try_from(i) else { break };
        for f in phone::find_numbers(text, o) {
            let (Ok(start), Ok(end)) = (u32::try_from(f.start), u32::try_from(f.end)) else {
                continue;
            };
            match E164::parse(&f.e164) {
                Ok(number) => hits.push(Hit {
                    text: index,
                    start,
                    end,
                    label: label(&number),
                    number,
                }),
                Err(e) => debug(&format!("matcher result {} refused: {e}", f.e164)),
            }
        }
    }
    hits
}

/// The number of a `tel:`/`callto:`/`sip:` link target (scheme already removed): URL-decoded,
/// parameters (`;ext=`, `;phone-context=`) and a SIP host dropped, then parsed like a selection.
pub fn link_number(target: &str, o: &Options) -> Option<E164> {
    let decoded = percent_decode(target);
    let user = decoded.split(['@', ';', '?']).next().unwrap_or_default();
    let e164 = phone::parse_selection(user, o).ok()?;
    E164::parse(&e164).ok()
}

/// The accessible name of a dial element.
pub fn label(number: &E164) -> String {
    format!("Call {}", phone::format_for_label(number.as_str()))
}

/// The context menu's "Call" on a selection: the number, or why the selection is not one.
pub async fn selection(text: &str) -> Result<E164, String> {
    let o = options().await;
    let e164 = phone::parse_selection(text, &o).map_err(|e| e.to_string())?;
    E164::parse(&e164).map_err(|e| e.to_string())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_parse_with_parameters_and_hosts() {
        let o = Options::region("US");
        let n = |t: &str| link_number(t, &o).map(|n| n.as_str().to_owned());
        assert_eq!(n("+1-425-555-0100").as_deref(), Some("+14255550100"));
        assert_eq!(n("4255550100;ext=12").as_deref(), Some("+14255550100"));
        assert_eq!(
            n("%2B44%2020%207946%200958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            n("+14255550100@sip.example.com").as_deref(),
            Some("+14255550100")
        );
        assert_eq!(n("alice@example.com"), None);
        assert_eq!(n("%ZZ12"), None);
    }

    #[test]
    fn hits_carry_utf16_offsets_and_labels() {
        let o = Options::region("US");
        let hits = find_in_texts(&["é (425) 555-0100".into(), "none".into()], &o);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].text, hits[0].start, hits[0].end), (0, 2, 16));
        assert_eq!(hits[0].label, "Call +1 425-555-0100");
    }
}
