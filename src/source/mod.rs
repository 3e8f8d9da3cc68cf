//! The read side of a batch run: named inputs → merged conversations in key
//! order, with the rejected lines and counts.
//!
//! - [`open`]: a file, a `.gz` file or stdin, opened with a byte counter.
//! - [`blocks`]: an opened input cut into blocks of whole, numbered lines.
//! - [`batch`]: blocks parsed and merged in parallel (sharded merge state).
//! - [`load`]: the threads tying them together ([`load()`](load::load)).

pub mod batch;
pub mod blocks;
pub mod load;
pub mod open;

pub use load::{Conversations, LoadError, Loaded, Progress, Quiet, load};
