//! `propusk decode`: what a credential text holds, layer by layer, its signature not checked.

use propusk_trust_list::{Lang, Locale};
use serde_json::json;

use crate::present::printable;

/// What a credential text (or link) holds, layer by layer, its signature not checked (`propusk
/// decode`): the holder as the credential carries it (initials, date of birth, masked document;
/// `full` matters only for an EU certificate, which carries whole names); or the layer that
/// refused it. JSON on one line, or words; `true` when it decoded.
pub fn describe(input: &str, json: bool, full: bool) -> (bool, String) {
    if input
        .trim_start()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("HC1:"))
    {
        return crate::eu::describe_hc1(input.trim(), json, full);
    }
    let u = match propusk_spec::decode_any(input) {
        Ok(u) => u,
        Err(e) if json => {
            let v = json!({"decoded": false, "layer": e.layer(), "reason": e.code(), "error": e.to_string()});
            return (false, v.to_string());
        }
        Err(e) => {
            let refused = format!("refused at the {} layer ({}): {e}", e.layer(), e.code());
            return (false, refused);
        }
    };
    let c = u.unverified_claims();
    let h = &c.holder;
    // The credential carries the door form only (SPEC §8): `full` shows no more of it.
    let _ = full;
    if json {
        let v = json!({
            "decoded": true,
            "signature_checked": false,
            "key_id": u.key_id().to_string(),
            "credential": c,
        });
        return (true, v.to_string());
    }
    let holder = format!(
        "{}  born {}  {}",
        h.initials,
        h.birth_date,
        h.document.masked()
    );
    let shown = format!(
        "type:        {}\nid:          {}\nkey id:      {}\nissued at:   {}\nexpires at:  {}\n\
         holder:      {}\n\
         signature:   NOT CHECKED (use `propusk verify` for a verdict)",
        c.credential_type().as_str(),
        c.id,
        u.key_id(),
        Locale::utc(Lang::En).time(c.issued_at),
        Locale::utc(Lang::En).time(c.expires_at),
        printable(&holder),
    );
    (true, shown)
}
