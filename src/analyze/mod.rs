//! Analysis: the ordered merge of layer indexes into one arena (`index`), the
//! cache/temp rules as data (`rules`), and the pure waste analysis (`waste`).

pub mod base;
pub mod binaries;
pub mod globfilter;
pub mod ignore;
pub mod interned;
pub mod packages;
pub mod pull;
pub mod rules;
pub mod sizes;
pub mod waste;
