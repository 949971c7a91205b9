//! Rules on top of libphonenumber's matcher, each one added because the accuracy suite
//! (`tests/accuracy.rs`) showed the matcher accepting something no agent would call. Each rule
//! only removes matches; none finds anything the matcher did not.

/// Whether the match `text[start..end]` must be dropped.
pub(crate) fn rejects(text: &str, start: usize, end: usize) -> bool {
    let (Some(before), Some(raw), Some(after)) =
        (text.get(..start), text.get(start..end), text.get(end..))
    else {
        return true;
    };
    is_dotted_date(raw) || is_glued_by_joiner(before, after) || is_labelled_identifier(before, raw)
}

/// `05.10.1986`, `5.10.86`: a day-month-year date with dots. The matcher's own date guard only
/// knows slashes, and in regions with short national numbers such a date is a valid number
/// (DE `05.10.1986` parses as the fixed line +49 5101 986, IT as +39 05101986).
fn is_dotted_date(raw: &str) -> bool {
    let mut parts = raw.trim().split('.');
    let (Some(d), Some(m), Some(y), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let digits =
        |s: &str, lens: &[usize]| lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    digits(d, &[1, 2]) && digits(m, &[1, 2]) && digits(y, &[2, 4])
}

/// `425-555-0100-BLK`, `INV-4255550100`: the digits are one part of a longer code joined by a
/// hyphen, slash or underscore to letters. `23790.12345 60000.123456` (a Brazilian boleto line):
/// joined by a dot to more digits, i.e. part of a dotted code or decimal. The matcher only checks
/// the character right next to the match, which is the joiner. Digits after a hyphen or slash are
/// left to the matcher (German `030 1234567-0` is a switchboard number with its extension digit).
fn is_glued_by_joiner(before: &str, after: &str) -> bool {
    let joiner = |c: char| matches!(c, '-' | '/' | '_' | '\u{2010}' | '\u{2011}');
    let glued = |chars: &mut dyn Iterator<Item = char>| match (chars.next(), chars.next()) {
        (Some(j), Some(c)) if joiner(j) => c.is_alphabetic(),
        (Some('.'), Some(c)) => c.is_ascii_digit(),
        _ => false,
    };
    glued(&mut after.chars()) || glued(&mut before.chars().rev())
}

/// `Order 4255550100`, `Commande n° 0612345678`, `P.IVA 01234567890`: an unformatted digit
/// run right after a word that names an identifier. Such ids are often valid numbers by length
/// and prefix, and nothing but the label tells them apart; a phone number written as a bare
/// digit run (`Mobile No: 9876543210`, `Call 4255550123`) has a different label and stays.
/// The label is the word right before the number on the same line, or the word before that if
/// the nearer one is only "no"/"nr"/"n°"-like (so `Order no. 42…` is an id, `Phone no. 42…` not).
/// Only matches that are digits alone count (no `+`, spaces, dashes or brackets, which ids
/// rarely have).
fn is_labelled_identifier(before: &str, raw: &str) -> bool {
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let line = before.rsplit('\n').next().unwrap_or_default();
    let mut words = line
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .rev();
    let Some(mut label) = words.next() else {
        return false;
    };
    if NUMBER_MARKERS.contains(&label.as_str()) {
        let Some(word) = words.next() else {
            return false;
        };
        label = word;
    }
    ID_LABELS.contains(&label.as_str())
}

/// Words that only say "number" (`no.`, `Nr.`, `n°`, `nº` split to `n`), so the label is the word
/// before them.
const NUMBER_MARKERS: &[&str] = &[
    "no", "nr", "n", "nº", "number", "num", "nummer", "numero", "número",
];

/// Words (lower case) that label an order, invoice, account, tax or similar id, in the
/// languages of the regions the suite covers. Deliberately without "no", "nr", "number" and
/// "#", which also label phone numbers ("Phone no.").
const ID_LABELS: &[&str] = &[
    // English
    "order",
    "invoice",
    "inv",
    "ref",
    "reference",
    "sku",
    "account",
    "acct",
    "ticket",
    "case",
    "tracking",
    "customer",
    "id",
    "po",
    "vat",
    "gstin",
    "pan",
    "abn",
    "acn",
    "iban",
    "mrn",
    // German, Dutch
    "bestellnummer",
    "bestellung",
    "auftrag",
    "auftragsnummer",
    "rechnung",
    "rechnungsnummer",
    "kundennummer",
    "kontonummer",
    "konto",
    "steuernummer",
    "ust",
    "kvk",
    "btw",
    "factuur",
    "bestelling",
    "klantnummer",
    // French, Spanish, Portuguese, Italian
    "commande",
    "facture",
    "client",
    "siret",
    "siren",
    "tva",
    "pedido",
    "factura",
    "cliente",
    "nif",
    "cif",
    "cnpj",
    "cpf",
    "fattura",
    "ordine",
    "iva",
    "rfc",
];
