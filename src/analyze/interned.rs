//! Reading back the `&'static str` fields of a report (a package manager,
//! an insight id, a waste kind's name) from a cached report: each distinct
//! name is allocated once for the process and reused.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer};

/// A name read back by [`name`]: `&'static str` under another spelling,
/// which serde's derive would otherwise insist on borrowing from its input.
pub type Name = &'static str;

/// `s` as a `&'static str` (one allocation per distinct name).
pub fn intern(s: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&n) = names.get(s) {
        return n;
    }
    let n: &'static str = Box::leak(s.to_owned().into_boxed_str());
    names.insert(n);
    n
}

/// `#[serde(deserialize_with = "…::name")]` for a `&'static str` field.
pub fn name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    Ok(intern(&String::deserialize(d)?))
}

/// The same for a map keyed by such names.
pub fn names_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<&'static str, u64>, D::Error> {
    let m = BTreeMap::<String, u64>::deserialize(d)?;
    Ok(m.into_iter().map(|(k, v)| (intern(&k), v)).collect())
}
