//! The SVG ERD: [`layout`] computes geometry (pure numbers, testable), [`render`] writes XML.

pub(crate) mod layout;
pub(crate) mod render;
