//! Small text utilities used by the report renderer.

pub mod roman;
pub mod slug;
pub mod wrap;
pub mod checksum;
pub mod units;
