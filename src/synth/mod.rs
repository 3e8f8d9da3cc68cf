//! Synthetic Intercom conversations (`convstats gen`): deterministic, realistic
//! NDJSON for demos, tests and benchmarks.
//!
//! This module owns the generator and nothing else: it does no argument parsing
//! and reads no configuration. Each output line is one complete conversation
//! object in the shape of Intercom's `GET /conversations/{id}` response (parts
//! nested under `conversation_parts`, integer Unix-second timestamps, string
//! ids), plus the `workspace_id` extension of input.md.
//!
//! # Determinism
//!
//! Conversation `index` is generated from a ChaCha8 stream seeded with
//! `(seed, index)` only, so a line does not depend on the number of
//! conversations requested, on threading, or on the order of generation:
//! [`write_all`] is byte-identical to calling [`write_conversation`] for
//! `0..conversations` in order.
//!
//! # What the data holds
//!
//! - Workspaces `ws-1`, `ws-2`, ... ([`workspace_info`]) each with its own IANA
//!   zone and Monday–Friday office hours, a pool of customers (`user`, `lead`,
//!   `contact`), human admins and teams. Arrivals peak in local weekday
//!   business hours; nights and weekends are quieter.
//! - Message kinds: `customer_initiated` (most), `admin_initiated` and
//!   `automated` outbound messages (answered hours or days later, or never; some
//!   automated ones carry the `source.created_at` extension with the conversation
//!   created when the customer answered), and `operator_initiated`.
//! - Parts: `comment`, `note`, `assignment`, `default_assignment`,
//!   `away_mode_assignment`, `assign_and_reopen`, `note_and_reopen`, `open`
//!   (customer reply after a close, with a body), `close` (mostly by admins,
//!   some by bots, some with a reply body, rarely by the customer), `snoozed`,
//!   `unsnoozed`, `quick_reply`, `attribute_collected`, and part types convstats
//!   does not know (`language_detection_details`,
//!   `conversation_attribute_updated_by_admin`, `call_summary`). Several close /
//!   reopen cycles occur. Reply delays are log-normal, mostly pushed into office
//!   hours, some out of hours and some across weekends.
//! - Bots: the Operator-like admin [`OPERATOR_ADMIN_ID`] (`author.type:
//!   "admin"`, recognisable only when configured as a bot author id), the bot
//!   [`FIN_BOT_ID`] (`author.type: "bot"`), and AI-agent parts by admin
//!   [`AI_AGENT_ADMIN_ID`] carrying `from_ai_agent: true`. The same ids are used
//!   in every workspace.
//!
//! Parts are in time order with increasing numeric string ids (ties in time
//! happen, e.g. a default assignment in the same second as the initial
//! message). The conversation's `updated_at` is its last part's time (its
//! `created_at` when it has no parts); `state` follows the last close, reopen or
//! snooze; `first_contact_reply` is computed by metrics.md section 3.
//!
//! # Files
//!
//! This file holds the public API (re-exported below) and the constants shared
//! by the files:
//!
//! - `params.rs`: [`GenParams`] and its validation.
//! - `workspace.rs`: the workspace profiles (zone, office hours, admins, teams,
//!   volume), their admin and team ids, the workspace draw, [`workspace_info`].
//! - `config.rs`: [`sample_config`], the `convstats.toml` for the workspaces.
//! - `rnd.rs`: the seeded random stream of one conversation, and `mix`.
//! - `time.rs`: local time in a workspace's zone and its office hours.
//! - `arrival.rs`: when a conversation arrives (day and hour weights).
//! - `story.rs`: the random model of a conversation's parts (`Story`).
//! - `conversation.rs`: one whole conversation drawn from its seed
//!   (`Conversation`: kind, customer, parts, state, tags, ...).
//! - `text.rs`: names and message bodies.
//! - `people.rs`: customers, admins and bots as JSON authors.
//! - `json.rs`: the JSON writing primitives.
//! - `render.rs`: a `Conversation` as its NDJSON line ([`write_conversation`]).
//! - `stream.rs`: [`write_all`], all conversations in order, generated in
//!   parallel.

mod arrival;
mod config;
mod conversation;
mod json;
mod params;
mod people;
mod render;
mod rnd;
mod story;
mod stream;
mod text;
mod time;
mod workspace;

pub use config::sample_config;
pub use params::GenParams;
pub use render::write_conversation;
pub use stream::write_all;
pub use workspace::{WorkspaceInfo, workspace_info};

/// Id of the Operator-like admin (`author.type: "admin"`, name "Operator"). It
/// routes, auto-replies, snoozes back and closes idle conversations; configure
/// it as a bot author id (`[bots] author_ids = ["990000001"]`) so its parts
/// count as a bot's. Same id in every workspace.
pub const OPERATOR_ADMIN_ID: &str = "990000001";
/// Id of the bot with `author.type: "bot"` (name "Fin").
pub const FIN_BOT_ID: &str = "990000002";
/// Id of the admin that posts AI-agent answers with `from_ai_agent: true`.
pub const AI_AGENT_ADMIN_ID: &str = "990000003";

/// No part is later than `created_at` (or `source.created_at`) plus this many
/// seconds, so every timestamp lies in `[window_start, window_end + HORIZON)`.
pub const HORIZON: i64 = 21 * DAY;

/// Upper bound on the parts of one conversation.
pub const MAX_PARTS: usize = 40;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
