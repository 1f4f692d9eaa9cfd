pub mod distance;
pub mod bbox;
